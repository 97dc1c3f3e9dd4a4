"""The Connect protocol through the real Envoy at the gRPC paths, byte by byte (SQLite and
PostgreSQL): both codecs, Connect's error body and HTTP status table, and Envoy's own refusals as
Connect errors. ZITADEL's own clients over Connect: tests/clients."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from google.rpc import error_details_pb2
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.envoy_config import CONNECT_HTTP_STATUS
from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.databases import snapshot
from tests.support.gateway import Gateway

PATH = "/zitadel.user.v2.UserService"
JSON = {"content-type": "application/json", "connect-protocol-version": "1"}
PROTO = {"content-type": "application/proto", "connect-protocol-version": "1"}
HUMAN = {"profile": {"givenName": "Ada", "familyName": "Lovelace"}, "email": {"email": "ada@example.com"}}


def connect(gw: Gateway, method: str, body: Any, headers: dict[str, str] = JSON) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return gw.http.post(f"{PATH}/{method}", content=content, headers=headers)


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))


def error_of(response: httpx.Response) -> tuple[str, str, error_details_pb2.ErrorInfo | None]:
    """(code, message, ErrorInfo) from Connect's error body, after checking its shape."""
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) <= {"code", "message", "details"}
    assert response.status_code == CONNECT_HTTP_STATUS[body["code"]]
    infos = []
    for detail in body.get("details", []):
        assert set(detail) == {"type", "value"}
        assert detail["type"] == "google.rpc.ErrorInfo"  # the message name, no type URL prefix
        infos.append(error_details_pb2.ErrorInfo.FromString(b64decode(detail["value"])))
    return body["code"], body.get("message", ""), (infos[0] if infos else None)


def test_the_flow_over_connect_json_and_binary(gw: Gateway) -> None:
    added = connect(gw, "AddHumanUser", HUMAN)
    assert added.status_code == 200 and added.headers["content-type"] == "application/json"
    user_id = added.json()["userId"]
    # Without Connect-Protocol-Version (ZITADEL's Python SDK sends none): Connect all the same.
    started = connect(gw, "RegisterPasskey", {"userId": user_id}, {"content-type": "application/json"})
    assert started.status_code == 200, started.text
    passkey_id = started.json()["passkeyId"]
    challenge = b64decode(started.json()["publicKeyCredentialCreationOptions"]["publicKey"]["challenge"])
    credential = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)

    request = pb.VerifyPasskeyRegistrationRequest(user_id=user_id, passkey_id=passkey_id, passkey_name="Laptop")
    request.public_key_credential.update(credential)
    verified = connect(gw, "VerifyPasskeyRegistration", request.SerializeToString(), PROTO)
    assert verified.status_code == 200 and verified.headers["content-type"] == "application/proto"
    assert pb.VerifyPasskeyRegistrationResponse.FromString(verified.content).details.sequence == 3

    listed = connect(gw, "ListPasskeys", pb.ListPasskeysRequest(user_id=user_id).SerializeToString(), PROTO)
    (passkey,) = pb.ListPasskeysResponse.FromString(listed.content).result
    assert (passkey.id, passkey.name) == (passkey_id, "Laptop")
    assert not {k for k in listed.headers if k.startswith("grpc-")}


@pytest.mark.parametrize("codec", ["json", "proto"])
def test_errors_are_connects_with_the_error_info(gw: Gateway, codec: str) -> None:
    if codec == "json":
        response = connect(gw, "ListPasskeys", {"userId": "nobödy"})
    else:
        response = connect(gw, "ListPasskeys", pb.ListPasskeysRequest(user_id="nobödy").SerializeToString(), PROTO)
    code, message, info = error_of(response)
    assert (response.status_code, code) == (404, "not_found")
    assert message == "user 'nobödy' not found"  # percent-decoded: gRPC sends it encoded
    assert info is not None and info.reason == "USER_NOT_FOUND" and info.metadata["user_id"] == "nobödy"


def test_codes_follow_connects_table(gw: Gateway) -> None:
    user_id = connect(gw, "AddHumanUser", HUMAN).json()["userId"]
    started = connect(gw, "RegisterPasskey", {"userId": user_id}).json()
    challenge = b64decode(started["publicKeyCredentialCreationOptions"]["publicKey"]["challenge"])
    credential = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)
    verify = {"userId": user_id, "passkeyId": started["passkeyId"], "publicKeyCredential": credential}
    assert connect(gw, "VerifyPasskeyRegistration", {**verify, "passkeyName": "A"}).status_code == 200

    cases = {
        # FAILED_PRECONDITION: 400 in Connect's table (REST answers 412, as ZITADEL's REST API).
        ("failed_precondition", 400): connect(gw, "VerifyPasskeyRegistration", {**verify, "passkeyName": "B"}),
        ("already_exists", 409): connect(gw, "AddHumanUser", HUMAN),
        ("unauthenticated", 401): gw.http.post(
            f"{PATH}/ListPasskeys", content=b"{}", headers={**JSON, "authorization": "Bearer pat_nope"}
        ),
        ("invalid_argument", 400): connect(gw, "ListPasskeys", {"userId": ""}),
        # Upstream's RPCs we do not implement yet: 501, as Connect says (Envoy's bridge says 404).
        ("unimplemented", 501): connect(gw, "ListAuthenticationMethodTypes", {"userId": user_id}),
    }
    for (code, status), response in cases.items():
        assert (error_of(response)[0], response.status_code) == (code, status), response.text


def test_envoys_own_refusals_are_connect_errors_and_reach_no_server(gw: Gateway) -> None:
    user_id = connect(gw, "AddHumanUser", HUMAN).json()["userId"]
    before = snapshot(gw.grpc.url)
    malformed = connect(gw, "AddHumanUser", b'{"profile": {')
    assert error_of(malformed)[0] == "invalid_argument"
    unknown_enum = connect(gw, "RegisterPasskey", {"userId": user_id, "authenticator": "SOMETHING_ELSE"})
    assert error_of(unknown_enum)[0] == "invalid_argument"
    assert error_of(connect(gw, "NoSuchMethod", {}))[0] == "unimplemented"
    huge = connect(gw, "VerifyPasskeyRegistration", {"userId": user_id, "passkeyName": "x" * (2 * 1024 * 1024)})
    assert (error_of(huge)[0], huge.status_code) == ("resource_exhausted", 429)
    assert snapshot(gw.grpc.url) == before


def test_grpc_and_grpc_web_on_the_same_paths_are_untouched(gw: Gateway) -> None:
    """The Connect route takes only Connect's content types: grpc-web still answers grpc-web."""
    reply = gw.grpc_web("ListPasskeys", pb.ListPasskeysRequest(user_id="nobody"))
    assert (reply.http_status, reply.code) == (200, 5)
    assert reply.error_info().reason == "USER_NOT_FOUND"
