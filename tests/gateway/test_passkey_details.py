"""Our own passkeys.v1.PasskeyDetailsService (what upstream's Passkey message does not carry: the
creation date) over every way in: gRPC to the server and through Envoy, grpc-web, JSON REST at
/passkeys/v1/... and Connect JSON, on SQLite and PostgreSQL; the same caller rules as ListPasskeys."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import grpc
import pytest
from google.protobuf import json_format
from passkeysapi.v1 import passkey_details_pb2 as pb
from passkeysapi.v1 import passkey_details_pb2_grpc as pb_grpc
from zitadel.user.v2 import user_service_pb2 as user_pb

from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.gateway import Gateway

SERVICE = "passkeys.v1.PasskeyDetailsService"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
WAYS = ["grpc", "grpc-via-envoy", "grpc-web", "rest", "connect-json"]


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def enrolled(gw: Gateway) -> tuple[str, str, str, dt.datetime]:
    """A user with one READY passkey "Laptop" and one NOT_READY one: (user, ready id, pending id, before)."""
    user_id = gw.grpc.add_user()
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    started = gw.grpc.stub.RegisterPasskey(user_pb.RegisterPasskeyRequest(user_id=user_id))
    challenge = b64decode(started.public_key_credential_creation_options["publicKey"]["challenge"])
    credential = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)
    request = user_pb.VerifyPasskeyRegistrationRequest(
        user_id=user_id, passkey_id=started.passkey_id, passkey_name="Laptop"
    )
    request.public_key_credential.update(credential)
    gw.grpc.stub.VerifyPasskeyRegistration(request)
    pending = gw.grpc.stub.RegisterPasskey(user_pb.RegisterPasskeyRequest(user_id=user_id))
    return user_id, started.passkey_id, pending.passkey_id, before


def list_details(gw: Gateway, way: str, user_id: str, token: str | None) -> tuple[int, pb.ListPasskeyDetailsResponse]:
    """(gRPC code number, answer) over one way in; the answer is empty on an error."""
    request = pb.ListPasskeyDetailsRequest(user_id=user_id)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if way.startswith("grpc") and way != "grpc-web":
        port = gw.grpc.port if way == "grpc" else int(gw.base_url.rsplit(":", 1)[1])
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                return 0, pb_grpc.PasskeyDetailsServiceStub(channel).ListPasskeyDetails(
                    request, metadata=list(headers.items()), timeout=10
                )
            except grpc.RpcError as error:
                return error.code().value[0], pb.ListPasskeyDetailsResponse()
    if way == "grpc-web":
        reply = gw.grpc_web(
            "ListPasskeyDetails", request, headers=headers or {"authorization": ""}, service_path=f"/{SERVICE}"
        )
        answer = pb.ListPasskeyDetailsResponse.FromString(reply.messages[0]) if reply.code == 0 else None
        return reply.code, answer or pb.ListPasskeyDetailsResponse()
    headers = headers or {"authorization": ""}
    if way == "rest":
        response = gw.rest("POST", f"/passkeys/v1/users/{user_id}/passkeys/_search", {}, headers=headers)
        if response.status_code != 200:
            return response.json()["code"], pb.ListPasskeyDetailsResponse()
    else:
        response = gw.http.post(
            f"/{SERVICE}/ListPasskeyDetails",
            content=json.dumps({"userId": user_id}),
            headers={"content-type": "application/json", "connect-protocol-version": "1", **headers},
        )
        if response.status_code != 200:
            return {"not_found": 5, "unauthenticated": 16}[response.json()["code"]], pb.ListPasskeyDetailsResponse()
    body = response.json()
    # Timestamps as RFC 3339, uint64 as strings, lowerCamelCase: as every other answer.
    assert all(RFC3339.match(p["creationDate"]) for p in body["result"]), body
    assert body["details"]["totalResult"] == str(len(body["result"]))
    return 0, json_to_pb(body)


def json_to_pb(body: dict) -> pb.ListPasskeyDetailsResponse:
    return json_format.ParseDict(body, pb.ListPasskeyDetailsResponse())


@pytest.mark.parametrize("way", WAYS)
def test_the_details_list_each_passkey_with_its_creation_date(gw: Gateway, way: str) -> None:
    user_id, ready, pending, before = enrolled(gw)

    code, answer = list_details(gw, way, user_id, gw.grpc.admin_token)

    assert code == 0
    got = [(p.id, p.name, p.state) for p in answer.result]
    assert got == [(ready, "Laptop", 2), (pending, "", 1)]
    for passkey in answer.result:
        created = passkey.creation_date.ToDatetime(dt.UTC)
        assert before <= created <= dt.datetime.now(dt.UTC)
    assert (answer.details.total_result, answer.details.processed_sequence) == (2, 4)
    # The same listing as ListPasskeys, which now carries upstream's three fields only.
    listed = gw.grpc.stub.ListPasskeys(user_pb.ListPasskeysRequest(user_id=user_id))
    assert [(p.id, p.name, p.state) for p in listed.result] == got


@pytest.mark.parametrize("way", WAYS)
def test_the_details_follow_list_passkeys_caller_rules(gw: Gateway, way: str) -> None:
    user_id, *_ = enrolled(gw)

    assert list_details(gw, way, user_id, None)[0] == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert list_details(gw, way, "nobody", gw.grpc.admin_token)[0] == grpc.StatusCode.NOT_FOUND.value[0]
