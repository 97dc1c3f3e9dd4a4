"""Every RPC as JSON REST through the real Envoy to the real server (SQLite and PostgreSQL):
ZITADEL's paths, lowerCamelCase bodies, uint64 as strings, gRPC errors as HTTP status with a
google.rpc.Status body, and refusals by Envoy itself (bad JSON, big bodies, unknown paths)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from passkeys.api.error_details import error_id
from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.databases import snapshot
from tests.support.gateway import Gateway
from tests.support.registration import b64decode, rows

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
ERROR_DETAIL = "type.googleapis.com/zitadel.v1.ErrorDetail"
HUMAN = {"profile": {"givenName": "Ada", "familyName": "Lovelace"}, "email": {"email": "ada@example.com"}}


def assert_details(details: dict[str, Any], *, sequence: int, org_id: str) -> None:
    assert set(details) == {"sequence", "changeDate", "resourceOwner", "creationDate"}
    assert details["sequence"] == str(sequence)
    assert details["resourceOwner"] == org_id
    assert RFC3339.match(details["changeDate"]) and RFC3339.match(details["creationDate"])


def error(code: int, message: str, reason: str, **metadata: str) -> dict[str, Any]:
    info = {"@type": ERROR_INFO, "reason": reason, "domain": "passkeys", "metadata": metadata}
    zitadel = {"@type": ERROR_DETAIL, "id": error_id(reason), "message": message}
    return {"code": code, "message": message, "details": [info, zitadel]}


def add_user(gw: Gateway, **fields: Any) -> str:
    response = gw.rest("POST", "/v2/users/human", {**HUMAN, **fields})
    assert response.status_code == 200, response.text
    return response.json()["userId"]


def start(gw: Gateway, user_id: str) -> tuple[str, bytes]:
    response = gw.rest("POST", f"/v2/users/{user_id}/passkeys", {})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["passkeyId"], b64decode(body["publicKeyCredentialCreationOptions"]["publicKey"]["challenge"])


def verify(gw: Gateway, user_id: str, passkey_id: str, credential: dict[str, Any], name: str = "Laptop") -> Any:
    return gw.rest(
        "POST",
        f"/v2/users/{user_id}/passkeys/{passkey_id}",
        {"publicKeyCredential": credential, "passkeyName": name},
    )


def test_the_whole_flow_in_the_documented_json_shapes(gw: Gateway) -> None:
    added = gw.rest("POST", "/v2/users/human", {**HUMAN, "username": "ada"})
    assert added.status_code == 200
    assert added.headers["content-type"] == "application/json"
    body = added.json()
    assert set(body) == {"userId", "details"}
    user_id, org_id = body["userId"], body["details"]["resourceOwner"]
    assert_details(body["details"], sequence=1, org_id=org_id)
    assert body["details"]["changeDate"] == body["details"]["creationDate"]

    started = gw.rest("POST", f"/v2/users/{user_id}/passkeys", {"authenticator": "PASSKEY_AUTHENTICATOR_PLATFORM"})
    assert started.status_code == 200
    body = started.json()
    assert set(body) == {"details", "passkeyId", "publicKeyCredentialCreationOptions"}
    assert_details(body["details"], sequence=2, org_id=org_id)
    options = body["publicKeyCredentialCreationOptions"]["publicKey"]
    assert options["rp"] == {"id": RP_ID, "name": "passkeys"}
    assert options["user"]["name"] == "ada"
    assert options["authenticatorSelection"]["authenticatorAttachment"] == "platform"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-8, -7, -257]
    passkey_id = body["passkeyId"]

    auth = SoftAuthenticator()
    credential = auth.register(challenge=b64decode(options["challenge"]), origin=ORIGIN, rp_id=RP_ID)
    verified = verify(gw, user_id, passkey_id, credential)
    assert verified.status_code == 200, verified.text
    assert set(verified.json()) == {"details"}
    assert_details(verified.json()["details"], sequence=3, org_id=org_id)

    listed = gw.rest("POST", f"/v2/users/{user_id}/passkeys/_search", {})
    assert listed.status_code == 200
    body = listed.json()
    (listed_passkey,) = body["result"]
    # Upstream's Passkey exactly: our creation date is in passkeys.v1 (test_passkey_details).
    assert listed_passkey == {"id": passkey_id, "state": "AUTH_FACTOR_STATE_READY", "name": "Laptop"}
    assert set(body["details"]) == {"totalResult", "processedSequence", "timestamp"}
    assert (body["details"]["totalResult"], body["details"]["processedSequence"]) == ("1", "3")
    assert RFC3339.match(body["details"]["timestamp"])

    removed = gw.rest("DELETE", f"/v2/users/{user_id}/passkeys/{passkey_id}")
    assert removed.status_code == 200
    assert set(removed.json()) == {"details"}
    assert_details(removed.json()["details"], sequence=4, org_id=org_id)

    # Zero values and empty lists are printed, not left out.
    empty = gw.rest("POST", f"/v2/users/{user_id}/passkeys/_search", {}).json()
    assert empty["result"] == []
    assert (empty["details"]["totalResult"], empty["details"]["processedSequence"]) == ("0", "4")

    events = rows(gw.grpc.url, "SELECT sequence, type FROM events WHERE user_id = :u ORDER BY sequence", u=user_id)
    assert [(e["sequence"], e["type"]) for e in events] == [
        (1, "user.human.added"),
        (2, "user.human.passkey.added"),
        (3, "user.human.passkey.verified"),
        (4, "user.human.passkey.removed"),
    ]


def test_the_request_fields_arrive_by_their_json_names(gw: Gateway) -> None:
    user_id = add_user(gw, userId="ada-1", username="ada.l", organization={"orgDomain": RP_ID})
    assert user_id == "ada-1"
    started = gw.rest(
        "POST", f"/v2/users/{user_id}/passkeys", {"authenticator": "PASSKEY_AUTHENTICATOR_CROSS_PLATFORM"}
    ).json()
    selection = started["publicKeyCredentialCreationOptions"]["publicKey"]["authenticatorSelection"]
    assert selection["authenticatorAttachment"] == "cross-platform"
    assert started["publicKeyCredentialCreationOptions"]["publicKey"]["user"]["name"] == "ada.l"
    # Upstream's fields this server does not implement are refused by their name, never dropped.
    before = snapshot(gw.grpc.url)
    with_phone = gw.rest(
        "POST", "/v2/users/human", {**HUMAN, "email": {"email": "b@example.com"}, "phone": {"phone": "+41"}}
    )
    assert with_phone.status_code == 400
    message = "phone is not supported by this service (it enrols passkeys only); leave it unset"
    assert with_phone.json() == error(3, message, "UNSUPPORTED_FIELD", field="phone")
    assert snapshot(gw.grpc.url) == before


def test_each_error_is_an_http_status_with_a_status_body_and_changes_nothing(gw: Gateway) -> None:
    user_id = add_user(gw)
    passkey_id, challenge = start(gw, user_id)
    link = gw.rest("POST", f"/v2/users/{user_id}/passkeys/registration_link", {"returnCode": {}})
    assert link.status_code == 200
    code = link.json()["code"]
    before = snapshot(gw.grpc.url)

    # 401 UNAUTHENTICATED: no token, or an unknown one
    anonymous = gw.http.build_request("POST", f"/v2/users/{user_id}/passkeys/_search", json={})
    del anonymous.headers["authorization"]
    no_token = gw.http.send(anonymous)
    assert no_token.status_code == 401
    assert no_token.json()["code"] == 16
    assert no_token.json()["details"][0]["@type"] == ERROR_INFO
    unknown = gw.rest("POST", f"/v2/users/{user_id}/passkeys/_search", {}, headers={"authorization": "Bearer pat_x"})
    assert unknown.status_code == 401

    # 403 PERMISSION_DENIED: a registration code gives no right to list
    as_code = {"authorization": f"Bearer {code['id']}:{code['code']}"}
    denied = gw.rest("POST", f"/v2/users/{user_id}/passkeys/_search", {}, headers=as_code)
    assert denied.status_code == 403, denied.text
    assert denied.json()["code"] == 7

    # 404 NOT_FOUND
    unknown_user = gw.rest("POST", "/v2/users/nobody/passkeys", {})
    assert unknown_user.status_code == 404
    assert unknown_user.headers["content-type"] == "application/json"
    assert unknown_user.json() == error(5, "user 'nobody' not found", "USER_NOT_FOUND", user_id="nobody")
    unknown_passkey = gw.rest("DELETE", f"/v2/users/{user_id}/passkeys/nope")
    assert unknown_passkey.status_code == 404
    assert unknown_passkey.json() == error(5, "passkey 'nope' not found", "PASSKEY_NOT_FOUND", passkey_id="nope")

    # 400 INVALID_ARGUMENT
    bad_domain = gw.rest("POST", f"/v2/users/{user_id}/passkeys", {"domain": "other.com"})
    assert bad_domain.status_code == 400
    assert bad_domain.json()["code"] == 3
    assert bad_domain.json()["details"][0]["@type"] == ERROR_INFO
    assert "domain" in bad_domain.json()["message"]
    credential = SoftAuthenticator().register(challenge=challenge, origin="https://evil.example", rp_id=RP_ID)
    wrong_origin = verify(gw, user_id, passkey_id, credential)
    assert wrong_origin.status_code == 400
    body = wrong_origin.json()
    assert (body["code"], body["details"][0]["reason"]) == (3, "CREDENTIAL_REJECTED")
    assert body["details"][0]["metadata"]["check"] == "origin"
    no_name = verify(
        gw, user_id, passkey_id, SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID), ""
    )
    assert no_name.status_code == 400
    assert no_name.json()["details"][0]["reason"] == "INVALID_FIELD"

    # 409 ALREADY_EXISTS
    taken = gw.rest("POST", "/v2/users/human", {**HUMAN, "userId": user_id})
    assert taken.status_code == 409
    assert taken.json() == error(6, f"user {user_id!r} already exists", "USER_EXISTS", user_id=user_id)

    assert snapshot(gw.grpc.url) == before

    # 412 FAILED_PRECONDITION: the passkey is verified once, then refused.
    auth = SoftAuthenticator()
    assert (
        verify(gw, user_id, passkey_id, auth.register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)).status_code
        == 200
    )
    after_first = snapshot(gw.grpc.url)
    again = verify(
        gw, user_id, passkey_id, SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)
    )
    assert again.status_code == 412, again.text
    body = again.json()
    assert (body["code"], body["details"][0]["reason"]) == (9, "PASSKEY_ALREADY_VERIFIED")

    # 409 for a credential registered before.
    other_id, other_challenge = start(gw, user_id)
    after_start = snapshot(gw.grpc.url)
    reused = verify(gw, user_id, other_id, auth.register(challenge=other_challenge, origin=ORIGIN, rp_id=RP_ID))
    assert reused.status_code == 409
    assert reused.json()["details"][0]["reason"] == "CREDENTIAL_EXISTS"
    assert snapshot(gw.grpc.url) == after_start != after_first


def test_envoy_refuses_malformed_json_unknown_paths_and_parameters_without_calling_the_server(gw: Gateway) -> None:
    user_id = add_user(gw)
    before = snapshot(gw.grpc.url)

    malformed = gw.http.post("/v2/users/human", content=b'{"profile": {', headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/json"  # a google.rpc.Status
    assert malformed.json()["code"] == 3
    not_an_object = gw.http.post(f"/v2/users/{user_id}/passkeys", content=b"[1, 2]")
    assert not_an_object.status_code == 400
    wrong_type = gw.rest("POST", f"/v2/users/{user_id}/passkeys", {"authenticator": "SOMETHING_ELSE"})
    assert wrong_type.status_code == 400

    assert gw.rest("POST", "/v2/users/unknown/thing/here", {}).status_code == 404
    assert gw.rest("GET", f"/v2/users/{user_id}/passkeys").status_code == 405  # a known path
    # GET /v2/users/{user_id} is upstream's GetUserByID: no user "human" here.
    assert gw.rest("GET", "/v2/users/human").status_code == 404
    assert gw.rest("POST", "/v1/users/human", HUMAN).status_code == 404
    assert gw.rest("POST", "/").status_code == 404  # GET / is the enrolment page
    assert gw.rest("GET", "/index.html").status_code == 404
    assert gw.rest("POST", "/v2/users/human?debug=1", HUMAN).status_code == 400

    assert snapshot(gw.grpc.url) == before


def test_a_body_over_the_limit_is_refused_by_envoy_and_a_credential_over_1_mib_by_the_server(gw: Gateway) -> None:
    user_id = add_user(gw)
    passkey_id, _ = start(gw, user_id)
    before = snapshot(gw.grpc.url)
    path = f"/v2/users/{user_id}/passkeys/{passkey_id}"

    huge = json.dumps({"publicKeyCredential": {"id": "x" * (2 * 1024 * 1024)}, "passkeyName": "big"}).encode()
    declared = gw.http.post(path, content=huge, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    # Without a content-length (chunked), Envoy counts while it buffers.
    chunked = gw.http.post(
        path,
        content=iter([huge[i : i + 65536] for i in range(0, len(huge), 65536)]),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413

    # Within Envoy's limit but over the 1 MiB the API allows: the server says which field.
    just_over = verify(gw, user_id, passkey_id, {"id": "x" * (1024 * 1024)})
    assert just_over.status_code == 400
    body = just_over.json()
    assert body["details"][0]["reason"] == "INVALID_FIELD"
    assert body["details"][0]["metadata"] == {"field": "public_key_credential"}

    assert snapshot(gw.grpc.url) == before


@pytest.mark.parametrize(("size", "expected"), [(1024 * 1024 - 200, 400), (1024 * 1024 + 80 * 1024, 413)])
def test_the_limit_sits_just_above_the_largest_allowed_credential(gw: Gateway, size: int, expected: int) -> None:
    user_id = add_user(gw)
    passkey_id, _ = start(gw, user_id)
    # A credential of about `size` characters: under 1 MiB the server checks it (and refuses it as
    # a credential: 400 CREDENTIAL_REJECTED); well over, Envoy refuses the body.
    response = verify(gw, user_id, passkey_id, {"id": "x", "pad": "y" * size})
    assert response.status_code == expected
    if expected == 400:
        assert response.json()["details"][0]["reason"] == "CREDENTIAL_REJECTED"
