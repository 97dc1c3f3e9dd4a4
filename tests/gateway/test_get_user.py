"""GetUserByID (upstream's zitadel.user.v2, minimally): a human's username, profile and email,
over gRPC and REST; NOT_FOUND for an unknown user; a spent registration code hears CODE_USED."""

from __future__ import annotations

import grpc
import pytest
from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.gateway import Gateway


def test_get_user_by_id_over_grpc_and_rest(gw: Gateway) -> None:
    user_id = gw.grpc.add_user(email="grace@example.com")
    got = gw.grpc.stub.GetUserByID(pb.GetUserByIDRequest(user_id=user_id))
    assert (got.user.user_id, got.user.username, got.user.preferred_login_name) == (
        user_id,
        "grace@example.com",
        "grace@example.com",
    )
    assert got.user.human.profile.given_name == "Ada" and got.user.human.profile.family_name == "Lovelace"
    assert got.user.human.profile.display_name == "Ada Lovelace"
    assert got.user.human.email.email == "grace@example.com"
    assert got.details.sequence == 1 and got.details.resource_owner

    rest = gw.rest("GET", f"/v2/users/{user_id}")
    assert rest.status_code == 200, rest.text
    body = rest.json()
    assert body["user"]["human"]["email"]["email"] == "grace@example.com"
    assert body["user"]["state"] == "USER_STATE_ACTIVE"
    missing = gw.rest("GET", "/v2/users/nobody")
    assert (missing.status_code, missing.json()["details"][0]["reason"]) == (404, "USER_NOT_FOUND")


def test_a_registration_code_reads_its_user_until_it_is_spent(gw: Gateway) -> None:
    user_id = gw.grpc.add_user()
    code = gw.grpc.stub.CreatePasskeyRegistrationLink(
        pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, return_code={})
    ).code
    as_code = (("authorization", f"Bearer {code.id}:{code.code}"),)
    anyone = gw.grpc.stub_for(None)
    assert anyone.GetUserByID(pb.GetUserByIDRequest(user_id=user_id), metadata=as_code).user.user_id == user_id
    other = gw.grpc.add_user()
    with pytest.raises(grpc.RpcError) as denied:
        anyone.GetUserByID(pb.GetUserByIDRequest(user_id=other), metadata=as_code)
    assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
    anyone.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, code=code))
    with pytest.raises(grpc.RpcError) as spent:
        anyone.GetUserByID(pb.GetUserByIDRequest(user_id=user_id), metadata=as_code)
    assert spent.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "already used" in (spent.value.details() or "")
