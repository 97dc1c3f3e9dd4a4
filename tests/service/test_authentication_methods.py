"""ListAuthenticationMethodTypes over gRPC (SQLite and PostgreSQL): PASSKEY once a READY passkey
exists (for the domain asked), and who may ask."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.auth.permissions import IAM_LOGIN_CLIENT, ORG_USER_MANAGER
from passkeys.commands import admin
from passkeys.details import now
from passkeys.store.db import Database
from tests.conftest import ORIGIN, RP_ID
from tests.support.servers import Client
from tests.support.signin import enrol

PASSKEY = pb.AUTHENTICATION_METHOD_TYPE_PASSKEY


def _types(client: Client, user_id: str, **query: object) -> list[int]:
    request = pb.ListAuthenticationMethodTypesRequest(user_id=user_id, **query)  # type: ignore[arg-type]
    return list(client.stub.ListAuthenticationMethodTypes(request).auth_method_types)


def test_passkey_once_one_is_ready_for_the_domain(client: Client) -> None:
    user_id = client.add_user()
    assert _types(client, user_id) == []
    client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))  # NOT_READY: not yet
    assert _types(client, user_id) == []
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    assert _types(client, user.user_id) == [PASSKEY]
    assert _types(client, user.user_id, domain_query={"domain": RP_ID}) == [PASSKEY]
    assert _types(client, user.user_id, domain_query={"domain": "example.com"}) == []
    response = client.stub.ListAuthenticationMethodTypes(pb.ListAuthenticationMethodTypesRequest(user_id=user.user_id))
    assert response.details.total_result == 1 and response.details.processed_sequence >= 2
    client.stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=user.user_id, passkey_id=user.passkey_id))
    assert _types(client, user.user_id) == []


def test_who_may_ask(client: Client) -> None:
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    db = Database(client.url)
    try:
        with db.write() as s:
            other_org = admin.create_org(s, name="other", domain="other.example")
            tokens = {}
            for name, role, on in (("login", IAM_LOGIN_CLIENT, None), ("other manager", ORG_USER_MANAGER, other_org)):
                uid = admin.create_machine_user(s, org_id=other_org, name=name)
                admin.grant_role(s, user_id=uid, role=role, org_id=on)
                tokens[name] = admin.create_token(s, user_id=uid, expires_at=now() + timedelta(hours=1)).token
    finally:
        db.dispose()
    request = pb.ListAuthenticationMethodTypesRequest(user_id=user.user_id)
    assert list(client.stub_for(tokens["login"]).ListAuthenticationMethodTypes(request).auth_method_types) == [PASSKEY]
    cases = [
        (tokens["other manager"], request, grpc.StatusCode.PERMISSION_DENIED),
        (None, request, grpc.StatusCode.UNAUTHENTICATED),
        (tokens["login"], pb.ListAuthenticationMethodTypesRequest(user_id="nobody"), grpc.StatusCode.NOT_FOUND),
        (tokens["login"], pb.ListAuthenticationMethodTypesRequest(user_id=""), grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for token, call, code in cases:
        with pytest.raises(grpc.RpcError) as caught:
            client.stub_for(token).ListAuthenticationMethodTypes(call)
        assert caught.value.code() == code
