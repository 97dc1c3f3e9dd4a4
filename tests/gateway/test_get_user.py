"""GetUserByID against the real server and through the real Envoy (SQLite and PostgreSQL): the
human as AddHumanUser stored it, over gRPC and REST (GET /v2/users/{user_id}), the REST answer
parsed strictly with upstream's descriptors; NOT_FOUND and UNAUTHENTICATED with nothing else;
a registration code reads its own user until it is spent (then CODE_USED)."""

from __future__ import annotations

import grpc
import pytest
from zitadel.user.v2 import user_pb2
from zitadel.user.v2 import user_service_pb2 as pb

from tests.support import upstream
from tests.support.gateway import Gateway
from tests.support.signin import error_info

PROFILE = {
    "given_name": "Ada",
    "family_name": "Lovelace",
    "nick_name": "Countess",
    "preferred_language": "en-GB",
    "gender": user_pb2.GENDER_FEMALE,
}


def test_get_user_by_id_answers_the_stored_human_over_grpc_and_rest(gw: Gateway) -> None:
    added = gw.grpc.stub.AddHumanUser(
        pb.AddHumanUserRequest(username="ada", profile=PROFILE, email={"email": "ada@example.com", "is_verified": True})
    )
    got = gw.grpc.stub.GetUserByID(pb.GetUserByIDRequest(user_id=added.user_id))

    assert got.details == added.details  # nothing happened since
    user = got.user
    assert (user.user_id, user.state, user.username) == (added.user_id, user_pb2.USER_STATE_ACTIVE, "ada")
    login_name = f"ada@{gw.grpc.settings.rp_id}"  # username@organization-domain, the default organization's
    assert (list(user.login_names), user.preferred_login_name) == ([login_name], login_name)
    assert user.details == added.details
    profile = user.human.profile
    assert (profile.given_name, profile.family_name, profile.display_name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert (profile.nick_name, profile.preferred_language, profile.gender) == ("Countess", "en-GB", 1)
    assert (user.human.email.email, user.human.email.is_verified) == ("ada@example.com", True)

    rest = gw.rest("GET", f"/v2/users/{added.user_id}")
    assert rest.status_code == 200, rest.text
    upstream.strict_parse(rest.text, upstream.response_type("zitadel.user.v2.UserService", "GetUserByID"))
    body = rest.json()["user"]
    assert (body["userId"], body["state"], body["human"]["profile"]["gender"]) == (
        added.user_id,
        "USER_STATE_ACTIVE",
        "GENDER_FEMALE",
    )
    assert body["human"]["email"] == {"email": "ada@example.com", "isVerified": True}


def test_unset_profile_fields_stay_unset(gw: Gateway) -> None:
    user_id = gw.grpc.add_user()
    profile = gw.grpc.stub.GetUserByID(pb.GetUserByIDRequest(user_id=user_id)).user.human.profile
    assert not any(profile.HasField(f) for f in ("nick_name", "preferred_language", "gender"))
    assert profile.HasField("display_name")


@pytest.mark.parametrize(
    ("user_id", "token", "code"),
    [("nobody", "admin", grpc.StatusCode.NOT_FOUND), (None, None, grpc.StatusCode.UNAUTHENTICATED)],
)
def test_get_user_by_id_refuses(gw: Gateway, user_id: str | None, token: str | None, code: grpc.StatusCode) -> None:
    user_id = user_id or gw.grpc.add_user()
    stub = gw.grpc.stub if token else gw.grpc.stub_for(None)
    with pytest.raises(grpc.RpcError) as err:
        stub.GetUserByID(pb.GetUserByIDRequest(user_id=user_id))
    assert err.value.code() == code
    assert (
        gw.rest("GET", f"/v2/users/{user_id}", headers={} if token else {"authorization": ""}).status_code
        == {
            grpc.StatusCode.NOT_FOUND: 404,
            grpc.StatusCode.UNAUTHENTICATED: 401,
        }[code]
    )


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
    assert error_info(spent.value).reason == "CODE_USED"
