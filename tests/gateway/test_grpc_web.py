"""VerifyPasskeyRegistration over grpc-web (binary and text) through the real Envoy, and the
CORS answers a browser page on another origin gets."""

from __future__ import annotations

import base64

import pytest
from google.protobuf import struct_pb2
from zitadel.user.v2 import user_service_pb2 as pb

from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.databases import snapshot
from tests.support.gateway import Gateway

VERIFY = "VerifyPasskeyRegistration"


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def pending(gw: Gateway) -> tuple[str, str, bytes]:
    user_id = gw.grpc.add_user()
    started = gw.grpc.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
    challenge = started.public_key_credential_creation_options["publicKey"]["challenge"]
    return user_id, started.passkey_id, b64decode(challenge)


def verify_request(
    user_id: str, passkey_id: str, credential: dict, name: str = "Phone"
) -> pb.VerifyPasskeyRegistrationRequest:
    struct = struct_pb2.Struct()
    struct.update(credential)
    return pb.VerifyPasskeyRegistrationRequest(
        user_id=user_id, passkey_id=passkey_id, public_key_credential=struct, passkey_name=name
    )


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
def test_verify_succeeds_over_grpc_web(gw: Gateway, text: bool) -> None:
    user_id, passkey_id, challenge = pending(gw)
    auth = SoftAuthenticator()
    credential = auth.register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)

    reply = gw.grpc_web(VERIFY, verify_request(user_id, passkey_id, credential), text=text)

    assert reply.http_status == 200
    expected_type = "application/grpc-web-text+proto" if text else "application/grpc-web+proto"
    assert reply.headers["content-type"] == expected_type
    assert (reply.code, reply.message) == (0, "")
    (message,) = reply.messages
    response = pb.VerifyPasskeyRegistrationResponse.FromString(message)
    assert response.details.sequence == 3
    assert response.details.resource_owner
    (listed,) = gw.grpc.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result
    assert (listed.id, listed.name, listed.state) == (passkey_id, "Phone", 2)


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
def test_verify_errors_arrive_as_grpc_status_with_error_info(gw: Gateway, text: bool) -> None:
    user_id, passkey_id, challenge = pending(gw)
    before = snapshot(gw.grpc.url)
    credential = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)

    unknown = gw.grpc_web(VERIFY, verify_request(user_id, "nope", credential), text=text)
    # The call fails before any message: HTTP 200, the status in headers, no body.
    assert unknown.http_status == 200
    assert unknown.messages == []
    assert (unknown.code, unknown.message) == (5, "passkey 'nope' not found")
    info = unknown.error_info()
    assert (info.reason, info.domain, dict(info.metadata)) == ("PASSKEY_NOT_FOUND", "passkeys", {"passkey_id": "nope"})
    assert unknown.status().code == 5

    wrong_rp = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id="evil.example")
    rejected = gw.grpc_web(VERIFY, verify_request(user_id, passkey_id, wrong_rp), text=text)
    assert rejected.code == 3
    assert rejected.error_info().reason == "CREDENTIAL_REJECTED"
    assert rejected.error_info().metadata["check"] == "rp_id_hash"

    assert snapshot(gw.grpc.url) == before


def test_an_allowed_origin_gets_cors_headers_on_preflight_and_answer(gw: Gateway) -> None:
    path = f"/zitadel.user.v2.UserService/{VERIFY}"
    preflight = gw.http.options(
        path,
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type,x-grpc-web,x-user-agent",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    allowed = {h.strip() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-grpc-web", "x-user-agent"} <= allowed
    assert "POST" in preflight.headers["access-control-allow-methods"]

    rest_preflight = gw.http.options(
        "/v2/users/human",
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert rest_preflight.headers["access-control-allow-origin"] == ORIGIN

    user_id, passkey_id, challenge = pending(gw)
    credential = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)
    answer = gw.grpc_web(VERIFY, verify_request(user_id, passkey_id, credential), headers={"origin": ORIGIN})
    assert answer.code == 0
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip() for h in answer.headers["access-control-expose-headers"].split(",")}
    assert {"grpc-status", "grpc-message", "grpc-status-details-bin"} <= exposed


@pytest.mark.parametrize("path", [f"/zitadel.user.v2.UserService/{VERIFY}", "/v2/users/human"])
def test_a_refused_origin_is_never_answered_as_allowed(gw: Gateway, path: str) -> None:
    before = snapshot(gw.grpc.url)
    preflight = gw.http.options(
        path,
        headers={
            "origin": "https://evil.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-grpc-web",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    # Even if the page sends the request anyway, the answer carries no permission to read it.
    user_id = gw.grpc.add_user()
    reply = gw.rest("POST", f"/v2/users/{user_id}/passkeys/_search", {}, headers={"origin": "https://evil.example"})
    assert reply.status_code == 200
    assert "access-control-allow-origin" not in reply.headers
    assert len(snapshot(gw.grpc.url)["users"]) == len(before["users"]) + 1
