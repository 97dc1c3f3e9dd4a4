"""The WebAuthn boundary: a browser's PublicKeyCredential in, a typed verified credential or
one `CredentialRejected` naming the failed check out.

py_webauthn does the ceremony of WebAuthn §7.1; registration/strict.py adds what it leaves out,
registration/attestation_policy.py decides which authenticators may register. What the library
raises for a wrong credential (its own exceptions, and the KeyError, TypeError, ValueError, ... that
escape it on malformed values) is the client's fault: CredentialRejected, named by exception type
where the library gives one. What the server fails at (out of file descriptors or memory, a bug)
is not: ServerOverloaded (UNAVAILABLE) or ServerFault (INTERNAL), logged with the traceback.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from OpenSSL import crypto
from webauthn import verify_registration_response
from webauthn.helpers import base64url_to_bytes, parse_attestation_object
from webauthn.helpers import exceptions as lib
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AttestationFormat,
    AttestationObject,
    AuthenticatorTransport,
    CredentialDeviceType,
)

from passkeys.errors import SERVER_FAULT, ServerFault
from passkeys.registration import attestation_policy as attestation
from passkeys.registration import strict
from passkeys.registration.attestation_policy import AttestationPolicy
from passkeys.registration.errors import CredentialRejected
from passkeys.registration.faults import CLIENT_FAULTS, chain, server_fault
from passkeys.registration.metadata import MetadataEntry

log = logging.getLogger(__name__)

_KNOWN_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)

# The library's exception types, mapped to the check that failed: the first type found anywhere
# along the chain of causes wins (a chain that does not reach a root is X509StoreContextError,
# wrapped in InvalidCertificateChain, wrapped in the format's InvalidRegistrationResponse).
_TYPED_CHECKS: tuple[tuple[type[Exception], str], ...] = (
    (crypto.X509StoreContextError, "attestation_trust"),
    (lib.InvalidBackupFlags, "backup_flags"),
    (lib.InvalidJSONStructure, "credential_structure"),
    (lib.InvalidCBORData, "attestation_object"),
    (lib.InvalidAuthenticatorDataStructure, "attestation_object"),
    (lib.InvalidAttestationObjectStructure, "attestation_object"),
    (lib.InvalidPublicKeyStructure, "public_key"),
    (lib.UnsupportedPublicKeyType, "public_key"),
    (lib.UnsupportedPublicKey, "public_key"),
    (lib.UnsupportedEC2Curve, "public_key"),
    (lib.UnsupportedAlgorithm, "algorithm"),
    (lib.InvalidTPMPubAreaStructure, "attestation_statement"),
    (lib.InvalidTPMCertInfoStructure, "attestation_statement"),
)
# Where a bare KeyError/TypeError/ValueError came from: the library function it escaped.
_FUNCTION_CHECKS: dict[str, str] = {
    "decode_credential_public_key": "public_key",
    "decoded_public_key_to_cryptography": "public_key",
    "parse_registration_credential_json": "credential_structure",
    "parse_client_data_json": "client_data",
    "parse_attestation_object": "attestation_object",
    "parse_authenticator_data": "attestation_object",
    "parse_cbor": "attestation_object",
}
# The library's messages for the checks registration and sign-in share (the credential and its
# client data), first in both tables below and in signin.py.
CLIENT_DATA_MESSAGE_CHECKS: tuple[tuple[str, str], ...] = (
    ("id and raw_id", "raw_id"),
    ("credential type", "credential_type"),
    ("clientDataJSON", "client_data"),
    ("client data type", "client_data_type"),
    ("challenge", "challenge"),
    ("origin", "origin"),
    ("token_binding", "token_binding"),
)
# InvalidRegistrationResponse, the library's one type for most checks: by its message (first
# match wins). Format modules end theirs with "(Packed)", "(TPM)", ...: attestation_statement.
_MESSAGE_CHECKS: tuple[tuple[str, str], ...] = (
    *CLIENT_DATA_MESSAGE_CHECKS,
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
    attestation_policy: AttestationPolicy = field(default_factory=AttestationPolicy)
    safetynet_allow_basic_integrity: bool = False


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
    # The attestation statement was verified against a trust root (MDS, PASSKEYS_ATTESTATION_ROOTS_DIR
    # or a root py_webauthn ships), not merely self-consistent: the AAGUID is then proven.
    attestation_trusted: bool = False


def _library_function(exc: BaseException) -> str | None:
    """The innermost py_webauthn function the exception passed through."""
    inside = [f.name for f in traceback.extract_tb(exc.__traceback__) if "/webauthn/" in f.filename]
    return inside[-1] if inside else None


def _library_check(exc: Exception) -> str:
    links = list(chain(exc))
    for cls, check in _TYPED_CHECKS:
        if any(isinstance(link, cls) for link in links):
            return check
    for link in links:
        if isinstance(link, lib.InvalidCertificateChain):
            # "Could not prepare leaf cert" / "intermediate certs": an x5c certificate that does
            # not load; "x5c was empty": no certificate where the format needs one.
            return "attestation_statement" if "x5c was empty" in str(link) else "attestation_certificate"
    if not isinstance(exc, lib.WebAuthnException):
        function = _library_function(exc)
        if function in _FUNCTION_CHECKS:
            return _FUNCTION_CHECKS[function]
    text = str(exc)
    for needle, check in _MESSAGE_CHECKS:
        if needle in text:
            return check
    return "attestation_statement"


def _rejected(exc: Exception) -> CredentialRejected:
    detail = str(exc) if isinstance(exc, lib.WebAuthnException | ValueError) else "malformed value"
    log.debug("credential rejected by webauthn: %s: %s", type(exc).__name__, exc)
    return CredentialRejected(_library_check(exc), f"{type(exc).__name__}: {detail}")


def _transports(credential: Mapping[str, Any]) -> list[str]:
    response = credential.get("response")
    values = response.get("transports") if isinstance(response, Mapping) else None
    if not isinstance(values, list):
        return []
    return sorted({v for v in values if isinstance(v, str) and v in _KNOWN_TRANSPORTS})


@dataclass(frozen=True)
class _Roots:
    """The roots py_webauthn gets, and the metadata entry they came from (policy `mds`)."""

    by_format: dict[AttestationFormat, list[bytes]]
    entry: MetadataEntry | None = None
    parsed: AttestationObject | None = None  # the attestation object, when read to find them


def _roots(credential: Mapping[str, Any], policy: Policy) -> _Roots:
    configured = {
        AttestationFormat(fmt): list(pems)
        for fmt, pems in policy.attestation_roots.items()
        if fmt in AttestationFormat._value2member_map_
    }
    rules = policy.attestation_policy
    if rules.mode != "mds":
        return _Roots(configured)
    # The authenticator must be known before the library runs, to give it that one's roots.
    try:
        parsed = parse_attestation_object(base64url_to_bytes(credential["response"]["attestationObject"]))
        fmt, att_stmt = parsed.fmt, parsed.att_stmt
        aaguid_bytes = parsed.auth_data.attested_credential_data.aaguid  # type: ignore[union-attr]
        aaguid = str(uuid.UUID(bytes=aaguid_bytes))
    except CLIENT_FAULTS:
        return _Roots({})  # malformed: the library says how
    entry = attestation.metadata_entry(rules, fmt, aaguid, att_stmt.x5c)
    return _Roots({fmt: attestation.roots_for(rules, fmt, entry, ())}, entry, parsed)


def verify_credential(
    *, credential: Mapping[str, Any], challenge: bytes, rp_id: str, policy: Policy
) -> VerifiedCredential:
    try:
        return _verify(credential, challenge, rp_id, policy)
    except Exception as exc:
        fault = server_fault(exc)
        if fault is None and isinstance(exc, CredentialRejected):
            raise
        # Anything else that escaped the library or our checks is the server's failure.
        log.error("verifying a credential failed on the server's side", exc_info=exc)
        raise (fault or ServerFault(SERVER_FAULT, "internal error")) from exc


def _verify(credential: Mapping[str, Any], challenge: bytes, rp_id: str, policy: Policy) -> VerifiedCredential:
    roots = _roots(credential, policy)
    algorithms = [COSEAlgorithmIdentifier(a) for a in policy.algorithms]  # valid: config.py checked them
    try:
        verified = verify_registration_response(
            credential=dict(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=list(policy.origins),
            require_user_presence=policy.require_user_presence,
            require_user_verification=policy.require_user_verification,
            supported_pub_key_algs=algorithms,
            # Copies: the format modules append their own roots to the list they are given.
            pem_root_certs_bytes_by_fmt={fmt: list(pems) for fmt, pems in roots.by_format.items()},
        )
    except CLIENT_FAULTS as exc:
        if server_fault(exc) is not None:
            raise
        raise _rejected(exc) from exc

    decoded, parsed = strict.decode_attestation(verified.attestation_object)
    x5c = parsed.att_stmt.x5c
    strict.check_client_data(credential, allow_cross_origin=policy.allow_cross_origin, top_origins=policy.top_origins)
    strict.check_raw_id(credential, verified.credential_id)
    strict.check_credential_id_length(verified.credential_id)
    if parsed.fmt != AttestationFormat.PACKED or x5c:
        # (A packed self-attestation is signed by this very key: the library has loaded it to
        # verify that signature, so loading it again would prove nothing more.)
        strict.check_public_key(verified.credential_public_key)
    strict.check_public_key_curve(verified.credential_public_key)
    strict.check_attestation_aaguid(parsed, verified.aaguid)
    strict.check_tpm_certificate_validity(parsed, datetime.now(UTC))
    strict.check_safetynet_cts_profile(parsed, allow_basic_integrity=policy.safetynet_allow_basic_integrity)
    strict.check_u2f_public_key(parsed, verified.credential_public_key)
    strict.check_none_attestation_statement(decoded)

    rules = policy.attestation_policy
    fmt = parsed.fmt
    trusted = attestation.attestation_trusted(fmt, x5c, roots.by_format.get(fmt, []))
    backup_eligible = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    attestation.check_attestation_trust(rules, fmt, verified.aaguid, roots.entry, trusted)
    attestation.check_authenticator_status(rules, roots.entry)
    attestation.check_certification_level(rules, roots.entry)
    attestation.check_aaguid_lists(rules, verified.aaguid)
    attestation.check_backup_eligibility(rules, backup_eligible)

    return VerifiedCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        attestation_format=str(getattr(verified.fmt, "value", verified.fmt)),
        transports=_transports(credential),
        backup_eligible=backup_eligible,
        backed_up=verified.credential_backed_up,
        user_verified=verified.user_verified,
        attestation_trusted=trusted,
    )
