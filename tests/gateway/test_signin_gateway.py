"""Passkey sign-in through the real Envoy (SQLite and PostgreSQL): REST at upstream's
/v2/sessions paths, grpc-web and the Connect protocol at the gRPC paths, with a software authenticator."""

from __future__ import annotations

import json
from typing import Any

import httpx
from zitadel.session.v2 import session_service_pb2 as spb

from tests.conftest import ORIGIN, RP_ID
from tests.support import upstream
from tests.support.databases import snapshot
from tests.support.gateway import Gateway
from tests.support.signin import b64decode, challenge_of, check_assertion, enrol

CONNECT = "/zitadel.session.v2.SessionService"
JSON = {"content-type": "application/json", "connect-protocol-version": "1"}
WEBAUTHN_CHALLENGE = {
    "webAuthN": {"domain": RP_ID, "userVerificationRequirement": "USER_VERIFICATION_REQUIREMENT_REQUIRED"}
}


def _challenge(body: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    options = body["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"]["publicKey"]
    return b64decode(options["challenge"]), options


def test_user_first_sign_in_over_rest(gw: Gateway) -> None:
    user = enrol(gw.grpc, origin=ORIGIN, rp_id=RP_ID)
    created = gw.rest(
        "POST", "/v2/sessions", {"checks": {"user": {"userId": user.user_id}}, "challenges": WEBAUTHN_CHALLENGE}
    )
    assert created.status_code == 200, created.text
    body = created.json()
    challenge, options = _challenge(body)
    assert options["rpId"] == RP_ID and len(options["allowCredentials"]) == 1
    assert body["details"]["sequence"] == "4"  # added, user.checked, webAuthN.challenged, token.set
    session_id = body["sessionId"]

    assertion = user.auth.authenticate(
        challenge=challenge, origin=ORIGIN, rp_id=RP_ID, user_handle=user.user_id.encode()
    )
    changed = gw.rest(
        "PATCH", f"/v2/sessions/{session_id}", {"checks": {"webAuthN": {"credentialAssertionData": assertion}}}
    )
    assert changed.status_code == 200, changed.text
    token = changed.json()["sessionToken"]
    assert token and token != body["sessionToken"] and changed.json()["details"]["sequence"] == "6"

    # Replayed: 412 with a google.rpc.Status body, nothing stored.
    before = snapshot(gw.grpc.url)
    again = gw.rest(
        "PATCH", f"/v2/sessions/{session_id}", {"checks": {"webAuthN": {"credentialAssertionData": assertion}}}
    )
    assert again.status_code == 412 and again.json()["details"][0]["reason"] == "CHALLENGE_MISSING"
    assert snapshot(gw.grpc.url) == before

    methods = gw.rest("GET", f"/v2/users/{user.user_id}/authentication_methods", params={"domainQuery.domain": RP_ID})
    assert methods.status_code == 200 and methods.json()["authMethodTypes"] == ["AUTHENTICATION_METHOD_TYPE_PASSKEY"]
    got = gw.rest("GET", f"/v2/sessions/{session_id}", params={"sessionToken": token})
    assert got.status_code == 200, got.text
    factors = got.json()["session"]["factors"]
    assert factors["user"]["id"] == user.user_id and factors["webAuthN"]["userVerified"] is True
    listed = gw.rest("POST", "/v2/sessions/search", {"queries": [{"idsQuery": {"ids": [session_id]}}]})
    assert listed.status_code == 200 and [s["id"] for s in listed.json()["sessions"]] == [session_id]
    # Every answer is exactly upstream's message: a strict parser built from upstream's protos takes it.
    for method, answer in (("CreateSession", created), ("SetSession", changed), ("GetSession", got),
                           ("ListSessions", listed), ("ListAuthenticationMethodTypes", methods)):  # fmt: skip
        service = "zitadel.user.v2.UserService" if method.startswith("ListAuth") else CONNECT.strip("/")
        upstream.strict_parse(answer.text, upstream.response_type(service, method))
    deleted = gw.rest("DELETE", f"/v2/sessions/{session_id}", {"sessionToken": token})
    assert deleted.status_code == 200, deleted.text
    assert gw.rest("GET", f"/v2/sessions/{session_id}").status_code == 404


def _connect(gw: Gateway, method: str, body: dict[str, Any]) -> httpx.Response:
    return gw.http.post(f"{CONNECT}/{method}", content=json.dumps(body).encode(), headers=JSON)


def test_discoverable_sign_in_over_connect(gw: Gateway) -> None:
    user = enrol(gw.grpc, origin=ORIGIN, rp_id=RP_ID)
    created = _connect(gw, "CreateSession", {"challenges": WEBAUTHN_CHALLENGE})
    assert created.status_code == 200 and created.headers["content-type"] == "application/json", created.text
    challenge, options = _challenge(created.json())
    assert not options.get("allowCredentials")
    session_id = created.json()["sessionId"]

    assertion = user.auth.authenticate(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, user_handle=b"not the owner")
    refused = _connect(
        gw, "SetSession", {"sessionId": session_id, "checks": {"webAuthN": {"credentialAssertionData": assertion}}}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_argument", refused.text

    assertion = user.auth.authenticate(
        challenge=challenge, origin=ORIGIN, rp_id=RP_ID, user_handle=user.user_id.encode()
    )
    changed = _connect(
        gw, "SetSession", {"sessionId": session_id, "checks": {"webAuthN": {"credentialAssertionData": assertion}}}
    )
    assert changed.status_code == 200, changed.text
    got = _connect(gw, "GetSession", {"sessionId": session_id, "sessionToken": changed.json()["sessionToken"]})
    assert got.status_code == 200 and got.json()["session"]["factors"]["user"]["id"] == user.user_id


def test_sign_in_over_grpc_web(gw: Gateway) -> None:
    user = enrol(gw.grpc, origin=ORIGIN, rp_id=RP_ID)
    request = spb.CreateSessionRequest(
        checks={"user": {"user_id": user.user_id}}, challenges={"web_auth_n": {"domain": RP_ID}}
    )
    created = gw.grpc_web("CreateSession", request, service_path=CONNECT)
    assert created.code == 0, created.message
    reply = spb.CreateSessionResponse.FromString(created.messages[0])
    assertion = user.auth.authenticate(
        challenge=challenge_of(reply.challenges), origin=ORIGIN, rp_id=RP_ID, user_handle=user.user_id.encode()
    )
    changed = gw.grpc_web("SetSession", check_assertion(reply.session_id, assertion), text=True, service_path=CONNECT)
    assert changed.code == 0, changed.message
    assert spb.SetSessionResponse.FromString(changed.messages[0]).details.sequence == 6
    again = gw.grpc_web("SetSession", check_assertion(reply.session_id, assertion), service_path=CONNECT)
    assert again.code == 9 and again.error_info().reason == "CHALLENGE_MISSING"  # FAILED_PRECONDITION


def test_discoverable_sign_in_over_rest(gw: Gateway) -> None:
    user = enrol(gw.grpc, origin=ORIGIN, rp_id=RP_ID)
    created = gw.rest("POST", "/v2/sessions", {"challenges": WEBAUTHN_CHALLENGE})
    assert created.status_code == 200, created.text
    challenge, options = _challenge(created.json())
    assert not options.get("allowCredentials")
    assert created.json()["details"]["sequence"] == "3"  # added, webAuthN.challenged, token.set
    session_id = created.json()["sessionId"]
    assertion = user.auth.authenticate(
        challenge=challenge, origin=ORIGIN, rp_id=RP_ID, user_handle=user.user_id.encode()
    )
    changed = gw.rest(
        "PATCH", f"/v2/sessions/{session_id}", {"checks": {"webAuthN": {"credentialAssertionData": assertion}}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["details"]["sequence"] == "6"  # user.checked, webAuthN.checked, token.set
    got = gw.rest("GET", f"/v2/sessions/{session_id}", params={"sessionToken": changed.json()["sessionToken"]})
    assert got.status_code == 200 and got.json()["session"]["factors"]["user"]["id"] == user.user_id
