"""The WebAuthn boundary: a browser's PublicKeyCredential in, a typed verified credential or
one `CredentialRejected` naming the failed check out.

py_webauthn does the ceremony of WebAuthn §7.1; registration/strict.py adds what it leaves out.
Every exception the library lets escape (InvalidJSONStructure, InvalidBackupFlags, even a
bare KeyError on a malformed COSE key) becomes CredentialRejected here, never an INTERNAL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webauthn import verify_registration_response
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import InvalidBackupFlags, InvalidJSONStructure
from webauthn.helpers.structs import AttestationFormat, AuthenticatorTransport, CredentialDeviceType

from passkeys.registration import strict
from passkeys.registration.errors import CredentialRejected

log = logging.getLogger(__name__)

_KNOWN_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)

# The library's messages, mapped to the name of the check that failed (first match wins).
_LIBRARY_CHECKS: tuple[tuple[str, str], ...] = (
    ("id and raw_id", "raw_id"),
    ("credential type", "credential_type"),
    ("clientDataJSON", "client_data"),
    ("client data type", "client_data_type"),
    ("challenge", "challenge"),
    ("origin", "origin"),
    ("token_binding", "token_binding"),
    ("attestationObject was malformed", "attestation_object"),
    ("None attestation had unexpected", "none_attestation_statement"),
    ("RP ID hash", "rp_id_hash"),
    ("User presence", "user_presence"),
    ("User verification", "user_verification"),
    ("attested credential data", "attested_credential_data"),
    ("credential ID", "attested_credential_data"),
    ("credential public key alg", "algorithm"),
    ("credential public key", "public_key"),
    ("AAGUID", "aaguid"),
    ("attestation type", "attestation_format"),
    ("Certificate chain", "attestation_trust"),
)


@dataclass(frozen=True)
class Policy:
    """What a registration must satisfy; built once from Settings."""

    origins: tuple[str, ...]
    algorithms: tuple[int, ...]
    require_user_verification: bool = True
    require_user_presence: bool = True
    allow_cross_origin: bool = False
    top_origins: tuple[str, ...] = ()
    attestation_roots: Mapping[str, tuple[bytes, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifiedCredential:
    credential_id: bytes
    public_key: bytes  # COSE_Key
    sign_count: int
    aaguid: str
    attestation_format: str
    transports: list[str]
    backup_eligible: bool
    backed_up: bool
    user_verified: bool


def _library_check(exc: Exception) -> str:
    if isinstance(exc, InvalidBackupFlags):
        return "backup_flags"
    if isinstance(exc, InvalidJSONStructure):
        return "credential_structure"
    text = str(exc)
    for needle, check in _LIBRARY_CHECKS:
        if needle in text:
            return check
    # Format modules prefix their messages, e.g. "... (Packed)": the attestation statement.
    return "attestation_statement"


def _transports(credential: Mapping[str, Any]) -> list[str]:
    response = credential.get("response")
    values = response.get("transports") if isinstance(response, Mapping) else None
    if not isinstance(values, list):
        return []
    return sorted({v for v in values if isinstance(v, str) and v in _KNOWN_TRANSPORTS})


def verify_credential(
    *, credential: Mapping[str, Any], challenge: bytes, rp_id: str, policy: Policy
) -> VerifiedCredential:
    try:
        verified = verify_registration_response(
            credential=dict(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=list(policy.origins),
            require_user_presence=policy.require_user_presence,
            require_user_verification=policy.require_user_verification,
            supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in policy.algorithms],
            pem_root_certs_bytes_by_fmt={
                AttestationFormat(fmt): list(pems)
                for fmt, pems in policy.attestation_roots.items()
                if fmt in AttestationFormat._value2member_map_
            },
        )
    except Exception as exc:
        check = _library_check(exc)
        log.debug("credential rejected by webauthn: %s: %s", type(exc).__name__, exc)
        reason = str(exc) if not isinstance(exc, (KeyError, IndexError, TypeError)) else "malformed value"
        raise CredentialRejected(check, f"{type(exc).__name__}: {reason}") from exc

    strict.check_client_data(credential, allow_cross_origin=policy.allow_cross_origin, top_origins=policy.top_origins)
    strict.check_raw_id(credential, verified.credential_id)
    strict.check_credential_id_length(verified.credential_id)
    strict.check_public_key(verified.credential_public_key)
    strict.check_none_attestation_statement(verified.attestation_object)
    strict.check_attestation_aaguid(verified.attestation_object, verified.aaguid)

    return VerifiedCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        attestation_format=str(getattr(verified.fmt, "value", verified.fmt)),
        transports=_transports(credential),
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
        user_verified=verified.user_verified,
    )
