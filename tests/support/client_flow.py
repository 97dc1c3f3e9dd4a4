"""The passkey flow every published client goes through (tests/clients), written once against a
`Call`: one RPC of zitadel.user.v2.UserService as proto3 JSON in and out, however the client carries
it. Each client's test adapts its own API to a Call and reports errors as the client sees them."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.rpc import error_details_pb2, status_pb2

from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator

ADMIN = "admin"  # the token a Call uses unless told otherwise


@dataclass
class Refused(Exception):
    """An error as the client reported it: the gRPC code's name and the ErrorInfo's reason."""

    code: str
    reason: str | None = None
    message: str = ""


Call = Callable[..., dict[str, Any]]  # (method, request, token=ADMIN | None | "<token>") -> response JSON


def b64decode(value: str) -> bytes:
    """Standard or URL-safe base64, padded or not."""
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))


def reason_of(details: list[dict[str, str]]) -> str | None:
    """The ErrorInfo reason from Connect-style details ({type, value}), or from a whole Status."""
    for detail in details:
        raw = b64decode(detail["value"])
        if detail["type"].endswith("google.rpc.ErrorInfo"):
            return error_details_pb2.ErrorInfo.FromString(raw).reason
        if detail["type"].endswith("google.rpc.Status"):
            for any_detail in status_pb2.Status.FromString(raw).details:
                info = error_details_pb2.ErrorInfo()
                if any_detail.Unpack(info):
                    return info.reason
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
