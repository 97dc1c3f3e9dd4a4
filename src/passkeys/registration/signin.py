"""The WebAuthn boundary of sign-in: PublicKeyCredentialRequestOptions out, an assertion (the
browser's credential.toJSON() of navigator.credentials.get()) in, a typed result or one
`AssertionRejected` naming the failed check.

py_webauthn's verify_authentication_response does the ceremony of WebAuthn L3 §7.2; the checks
it leaves out follow it here in the spec's order. The sign counter is checked here and not by the
library: the library compares it before the signature, which would let anyone who knows a
credential id learn whether a counter value is stale without holding the key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webauthn import generate_authentication_options, options_to_json, verify_authentication_response
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers import exceptions as lib
from webauthn.helpers.structs import (
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    UserVerificationRequirement,
)

from passkeys.errors import SERVER_FAULT, FailedPrecondition, Reason, ServerFault
from passkeys.registration.errors import AssertionRejected
from passkeys.registration.faults import CLIENT_FAULTS, server_fault
from passkeys.registration.verify import CLIENT_DATA_MESSAGE_CHECKS

log = logging.getLogger(__name__)

USER_VERIFICATION = ("required", "preferred", "discouraged")
_KNOWN_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)
# The library's InvalidAuthenticationResponse messages, to the check that failed (first match wins).
_MESSAGE_CHECKS: tuple[tuple[str, str], ...] = (
    *CLIENT_DATA_MESSAGE_CHECKS,
    ("authenticatorData", "authenticator_data"),
    ("RP ID hash", "rp_id_hash"),
    ("not present", "user_presence"),
    ("User verification", "user_verification"),
    ("signature", "signature"),
)


@dataclass(frozen=True)
class SignInPolicy:
    """What a sign-in must satisfy beyond its challenge; built once from Settings (assemble.py)."""

    origins: tuple[str, ...]
    allow_cross_origin: bool = False
    refuse_sign_count_regression: bool = True  # PASSKEYS_SIGN_COUNT_POLICY=refuse; False: flag


@dataclass(frozen=True)
class AllowedCredential:
    credential_id: bytes
    transports: list[str]


@dataclass(frozen=True)
class VerifiedAssertion:
    sign_count: int  # the counter to store: never lower than the stored one
    user_verified: bool
    backup_eligible: bool
    backed_up: bool
    sign_count_regressed: bool = False  # accepted all the same (refuse_sign_count_regression off)


class SignCountRegressed(FailedPrecondition):
    """§7.2 step 21: a genuinely signed assertion whose counter did not grow (a cloned
    authenticator, or a replay of an older assertion). Refused, and the stored counter is kept."""

    def __init__(self, received: int, stored: int) -> None:
        super().__init__(
            Reason.SIGN_COUNT_REGRESSED,
            f"the authenticator's sign counter {received} is not greater than the stored {stored}: "
            "the authenticator may be cloned",
            check="sign_count",
        )


def request_options(
    *, rp_id: str, challenge: bytes, timeout_ms: int, user_verification: str, allow: list[AllowedCredential]
) -> dict[str, Any]:
    """`{"publicKey": {...}}` as PublicKeyCredential.parseRequestOptionsFromJSON accepts; an empty
    `allow` (discoverable sign-in) leaves allowCredentials empty, so the browser offers every
    passkey it holds for the RP ID."""
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=timeout_ms,
        user_verification=UserVerificationRequirement(user_verification),
        allow_credentials=[
            PublicKeyCredentialDescriptor(
                id=c.credential_id,
                transports=[AuthenticatorTransport(t) for t in c.transports if t in _KNOWN_TRANSPORTS] or None,
            )
            for c in allow
        ],
    )
    return {"publicKey": json.loads(options_to_json(options))}


def credential_id_of(credential: Mapping[str, Any]) -> bytes:
    """The credential id (rawId) that the assertion names, to find its passkey by."""
    raw_id = credential.get("rawId")
    if not isinstance(raw_id, str) or not raw_id:
        raise AssertionRejected("credential_structure", "rawId must be a base64url string")
    try:
        return base64url_to_bytes(raw_id)
    except ValueError:
        raise AssertionRejected("credential_structure", "rawId is not base64url") from None


def user_handle_of(credential: Mapping[str, Any]) -> bytes | None:
    """response.userHandle, None when the browser sent none (null, absent or empty)."""
    response = credential.get("response")
    value = response.get("userHandle") if isinstance(response, Mapping) else None
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AssertionRejected("user_handle", "response.userHandle must be a base64url string")
    try:
        return base64url_to_bytes(value)
    except ValueError:
        raise AssertionRejected("user_handle", "response.userHandle is not base64url") from None


def _check_of(exc: Exception) -> str:
    if isinstance(exc, lib.InvalidJSONStructure):
        return "credential_structure"
    if isinstance(exc, lib.InvalidBackupFlags):
        return "backup_flags"
    text = str(exc)
    for needle, check in _MESSAGE_CHECKS:
        if needle in text:
            return check
    return "credential_structure" if not isinstance(exc, lib.WebAuthnException) else "assertion"


def verify_assertion(
    *,
    credential: Mapping[str, Any],
    challenge: bytes,
    rp_id: str,
    origins: tuple[str, ...],
    require_user_verification: bool,
    public_key: bytes,
    stored_sign_count: int,
    stored_backup_eligible: bool | None,
    expected_user_handle: bytes,
    require_user_handle: bool,
    allow_cross_origin: bool = False,
    refuse_sign_count_regression: bool = True,
) -> VerifiedAssertion:
    try:
        try:
            verified = verify_authentication_response(
                credential=dict(credential),
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=list(origins),  # from configuration, never from clientDataJSON
                credential_public_key=public_key,
                credential_current_sign_count=0,  # compared below, once the signature is known good
                require_user_verification=require_user_verification,
            )
        except CLIENT_FAULTS as exc:
            if server_fault(exc) is not None:
                raise
            detail = str(exc) if isinstance(exc, lib.WebAuthnException | ValueError) else "malformed value"
            raise AssertionRejected(_check_of(exc), f"{type(exc).__name__}: {detail}") from exc

        # §7.2 step 6: the user handle, when given, is the user's; without allowCredentials it must be given.
        handle = user_handle_of(credential)
        if handle is None and require_user_handle:
            raise AssertionRejected("user_handle", "a sign-in without a user name needs response.userHandle")
        if handle is not None and handle != expected_user_handle:
            raise AssertionRejected("user_handle", "response.userHandle is not the handle of the passkey's user")
        # §7.2 step 10 (L3): an assertion from a cross-origin iframe only where configured.
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        if client_data.get("crossOrigin") not in (None, False) and not allow_cross_origin:
            raise AssertionRejected("cross_origin", "sign-in from a cross-origin iframe is not allowed")
        # §7.2 step 17 (L3): backup eligibility is fixed when the credential is created.
        backup_eligible = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
        if stored_backup_eligible is not None and backup_eligible != stored_backup_eligible:
            raise AssertionRejected(
                "backup_eligibility",
                f"the backup eligibility flag changed from {stored_backup_eligible} to {backup_eligible}",
            )
        # §7.2 step 21: the counter grows whenever either value is non-zero.
        received = verified.new_sign_count
        regressed = (received > 0 or stored_sign_count > 0) and received <= stored_sign_count
        if regressed and refuse_sign_count_regression:
            raise SignCountRegressed(received, stored_sign_count)
        return VerifiedAssertion(
            sign_count=max(received, stored_sign_count),
            sign_count_regressed=regressed,
            user_verified=verified.user_verified,
            backup_eligible=backup_eligible,
            backed_up=verified.credential_backed_up,
        )
    except (AssertionRejected, SignCountRegressed):
        raise
    except Exception as exc:  # what escaped the library's and our checks is the server's failure
        fault = server_fault(exc)
        log.error("verifying an assertion failed on the server's side", exc_info=exc)
        raise (fault or ServerFault(SERVER_FAULT, "internal error")) from exc
