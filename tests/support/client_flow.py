"""The passkey flow every published client goes through (tests/clients), written once against a
`Call`: one RPC of zitadel.user.v2.UserService as proto3 JSON in and out, however the client carries
it. Each client's test adapts its own API to a Call and reports errors as the client sees them."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from zitadel import message_pb2

from passkeys.api.error_details import error_id
from passkeys.config import Settings
from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator

ADMIN = "admin"  # the token a Call uses unless told otherwise


@dataclass
class Refused(Exception):
    """An error as the client reported it: the gRPC code's name, the ErrorInfo's reason and
    ZITADEL's ErrorDetail (id, message)."""

    code: str
    reason: str | None = None
    message: str = ""
    error_detail: tuple[str, str] | None = None

    @classmethod
    def of(cls, code: str, details: list[dict[str, str]], message: str) -> Refused:
        """From Connect-style details ({type, value}), or one whole Status among them."""
        return cls(code, reason_of(details), message, error_detail_of(details))


Call = Callable[..., dict[str, Any]]  # (method, request, token=ADMIN | None | "<token>") -> response JSON


def _cli(settings: Settings, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "passkeys", *args],
        env={**os.environ, "PASSKEYS_DATABASE_URL": settings.database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def stranger_token(settings: Settings) -> str:
    """The token of a new machine user of another organization, without any role."""
    org = _cli(settings, "create-org", "--name", "elsewhere", "--domain", "elsewhere.example")
    user = _cli(settings, "create-machine-user", "--org-id", org, "--name", "stranger")
    return _cli(settings, "create-token", "--user-id", user, "--expires-in-days", "1")


def b64decode(value: str) -> bytes:
    """Standard or URL-safe base64, padded or not."""
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))


def _anys(details: list[dict[str, str]]) -> list[any_pb2.Any]:
    """Connect-style details ({type, value}) as Any, a whole Status among them unpacked."""
    out = []
    for detail in details:
        raw = b64decode(detail["value"])
        name = detail["type"].removeprefix("type.googleapis.com/")
        if name == "google.rpc.Status":
            out.extend(status_pb2.Status.FromString(raw).details)
        else:
            out.append(any_pb2.Any(type_url=f"type.googleapis.com/{name}", value=raw))
    return out


def reason_of(details: list[dict[str, str]]) -> str | None:
    """The ErrorInfo reason from Connect-style details ({type, value}), or from a whole Status."""
    for detail in _anys(details):
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return None


def error_detail_of(details: list[dict[str, str]]) -> tuple[str, str] | None:
    """ZITADEL's zitadel.v1.ErrorDetail (id, message), as ZITADEL's clients read it."""
    for detail in _anys(details):
        found = message_pb2.ErrorDetail()
        if detail.Unpack(found):
            return found.id, found.message
    return None


@dataclass
class FlowResult:
    user_id: str
    passkey_id: str
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


def passkey_flow(call: Call) -> FlowResult:
    """AddHumanUser, RegisterPasskey, VerifyPasskeyRegistration (a software authenticator's
    credential), ListPasskeys, CreatePasskeyRegistrationLink, RemovePasskey; checks each answer."""
    answers: dict[str, dict[str, Any]] = {}
    email = f"ada.{secrets.token_hex(4)}@example.com"
    added = answers["AddHumanUser"] = call(
        "AddHumanUser", {"profile": {"givenName": "Ada", "familyName": "Lovelace"}, "email": {"email": email}}
    )
    user_id = added["userId"]
    assert added["details"]["sequence"] == "1"

    started = answers["RegisterPasskey"] = call(
        "RegisterPasskey", {"userId": user_id, "authenticator": "PASSKEY_AUTHENTICATOR_PLATFORM"}
    )
    passkey_id = started["passkeyId"]
    options = started["publicKeyCredentialCreationOptions"]["publicKey"]
    assert options["rp"]["id"] == RP_ID

    credential = SoftAuthenticator().register(challenge=b64decode(options["challenge"]), origin=ORIGIN, rp_id=RP_ID)
    verified = answers["VerifyPasskeyRegistration"] = call(
        "VerifyPasskeyRegistration",
        {"userId": user_id, "passkeyId": passkey_id, "publicKeyCredential": credential, "passkeyName": "Laptop"},
    )
    assert verified["details"]["sequence"] == "3"

    listed = answers["ListPasskeys"] = call("ListPasskeys", {"userId": user_id})
    assert [(p["id"], p["state"], p["name"]) for p in listed["result"]] == [
        (passkey_id, "AUTH_FACTOR_STATE_READY", "Laptop")
    ]
    assert listed["details"]["totalResult"] == "1"

    link = answers["CreatePasskeyRegistrationLink"] = call(
        "CreatePasskeyRegistrationLink", {"userId": user_id, "returnCode": {}}
    )
    assert link["code"]["id"] and len(link["code"]["code"]) == 12

    answers["RemovePasskey"] = call("RemovePasskey", {"userId": user_id, "passkeyId": passkey_id})
    assert call("ListPasskeys", {"userId": user_id}).get("result", []) == []
    return FlowResult(user_id, passkey_id, answers)


def refusal(call: Call, method: str, request: dict[str, Any], token: str | None = ADMIN) -> Refused:
    try:
        answer = call(method, request, token=token)
    except Refused as refused:
        return refused
    raise AssertionError(f"{method} succeeded: {answer}")


def check_refusals(call: Call, *, user_id: str, stranger: str) -> None:
    """NOT_FOUND, UNAUTHENTICATED, PERMISSION_DENIED and INVALID_ARGUMENT, with their reasons."""
    cases = [
        ("NOT_FOUND", "USER_NOT_FOUND", "ListPasskeys", {"userId": "nobody"}, ADMIN),
        ("UNAUTHENTICATED", "TOKEN_INVALID", "ListPasskeys", {"userId": user_id}, "pat_" + secrets.token_urlsafe(32)),
        ("PERMISSION_DENIED", "PERMISSION_DENIED", "ListPasskeys", {"userId": user_id}, stranger),
        ("INVALID_ARGUMENT", "INVALID_FIELD", "AddHumanUser", {"profile": {"familyName": "L"}, "email": {}}, ADMIN),
    ]
    for code, reason, method, request, token in cases:
        refused = refusal(call, method, request, token)
        assert (refused.code, refused.reason) == (code, reason), refused
        assert refused.message, refused
        # ZITADEL's own detail beside ErrorInfo: the reason's stable id, the same message.
        assert refused.error_detail == (error_id(reason), refused.message), refused


def v2beta_flow(call: Call) -> FlowResult:
    """zitadel.user.v2beta's four RPCs (upstream has no ListPasskeys or RemovePasskey there):
    AddHumanUser, RegisterPasskey, VerifyPasskeyRegistration, CreatePasskeyRegistrationLink, and
    RegisterPasskey again with the returned code instead of a token."""
    answers: dict[str, dict[str, Any]] = {}
    email = f"ada.{secrets.token_hex(4)}@example.com"
    added = answers["AddHumanUser"] = call(
        "AddHumanUser",
        {"profile": {"givenName": "Ada", "familyName": "Lovelace"}, "email": {"email": email, "isVerified": True}},
    )
    user_id = added["userId"]
    assert added["details"]["sequence"] == "1"
    started = answers["RegisterPasskey"] = call("RegisterPasskey", {"userId": user_id})
    options = started["publicKeyCredentialCreationOptions"]["publicKey"]
    assert options["rp"]["id"] == RP_ID
    credential = SoftAuthenticator().register(challenge=b64decode(options["challenge"]), origin=ORIGIN, rp_id=RP_ID)
    verified = answers["VerifyPasskeyRegistration"] = call(
        "VerifyPasskeyRegistration",
        {
            "userId": user_id,
            "passkeyId": started["passkeyId"],
            "publicKeyCredential": credential,
            "passkeyName": "Laptop",
        },
    )
    assert verified["details"]["sequence"] == "3"
    link = answers["CreatePasskeyRegistrationLink"] = call(
        "CreatePasskeyRegistrationLink", {"userId": user_id, "returnCode": {}}
    )
    assert link["details"]["sequence"] == "4" and len(link["code"]["code"]) == 12
    by_code = call("RegisterPasskey", {"userId": user_id, "code": link["code"]}, token=None)
    assert by_code["passkeyId"] and by_code["details"]["sequence"] == "5"
    return FlowResult(user_id, started["passkeyId"], answers)


def check_v2beta_refusals(call: Call, *, user_id: str, stranger: str) -> None:
    """check_refusals' four codes on v2beta's RPCs, and an unsupported AddHumanUser field."""
    human = {"profile": {"givenName": "A", "familyName": "L"}, "email": {"email": "a@l.example"}}
    cases = [
        ("NOT_FOUND", "USER_NOT_FOUND", "RegisterPasskey", {"userId": "nobody"}, ADMIN),
        (
            "UNAUTHENTICATED",
            "TOKEN_INVALID",
            "RegisterPasskey",
            {"userId": user_id},
            "pat_" + secrets.token_urlsafe(32),
        ),
        ("PERMISSION_DENIED", "PERMISSION_DENIED", "RegisterPasskey", {"userId": user_id}, stranger),
        ("INVALID_ARGUMENT", "INVALID_FIELD", "AddHumanUser", {"profile": {"familyName": "L"}, "email": {}}, ADMIN),
        ("INVALID_ARGUMENT", "UNSUPPORTED_FIELD", "AddHumanUser", {**human, "password": {"password": "pw"}}, ADMIN),
    ]
    for code, reason, method, request, token in cases:
        refused = refusal(call, method, request, token)
        assert (refused.code, refused.reason) == (code, reason), refused
        assert refused.error_detail == (error_id(reason), refused.message), refused
