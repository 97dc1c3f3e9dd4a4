"""Checks that py_webauthn 3.0.1 leaves out, one function each, in WebAuthn §7.1 order.

Each raises CredentialRejected naming its check; they run after the library has verified
the ceremony, so their inputs are already known to be well-formed where the library parsed
them (clientDataJSON and rawId are re-read here because the library does not expose them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier
from webauthn.helpers import (
    base64url_to_bytes,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_attestation_object,
    parse_cbor,
)
from webauthn.helpers.structs import AttestationFormat

from passkeys.registration.errors import CredentialRejected

MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn L3 §5.1.3 credentialId
# id-fido-gen-ce-aaguid: in packed attestation certificates, it MUST equal authData's AAGUID.
FIDO_GEN_CE_AAGUID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


def check_client_data(credential: Mapping[str, Any], *, allow_cross_origin: bool, top_origins: tuple[str, ...]) -> None:
    """§7.1 steps 9-10 (L3): a registration from an iframe only where configured."""
    client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
    if client_data.get("crossOrigin") not in (None, False) and not allow_cross_origin:
        raise CredentialRejected("cross_origin", "registration from a cross-origin iframe is not allowed")
    top_origin = client_data.get("topOrigin")
    if top_origin is not None and top_origin not in top_origins:
        raise CredentialRejected("top_origin", f"top origin {str(top_origin)[:100]!r} is not allowed")


def check_raw_id(credential: Mapping[str, Any], credential_id: bytes) -> None:
    """rawId (and id, which the library compared to it) must be the credential in authData."""
    if base64url_to_bytes(credential["rawId"]) != credential_id:
        raise CredentialRejected("raw_id", "rawId differs from the credential id in authenticatorData")


def check_credential_id_length(credential_id: bytes) -> None:
    if len(credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise CredentialRejected(
            "credential_id_length",
            f"credential id is {len(credential_id)} bytes, at most {MAX_CREDENTIAL_ID_BYTES} are allowed",
        )


def check_public_key(cose_key: bytes) -> None:
    """The key must load: an EC point off its curve (which `none` attestation never
    exercises) would only fail later, at every sign-in."""
    try:
        decoded_public_key_to_cryptography(decode_credential_public_key(cose_key))
    except Exception as exc:
        raise CredentialRejected("public_key", f"credential public key is not a valid key: {exc}") from exc


def check_none_attestation_statement(attestation_object: bytes) -> None:
    """§8.7: a `none` attestation's attStmt is the empty map; the library only looks for the
    keys it knows (alg, sig, x5c, ...), so `{"foo": 1}` would pass it."""
    decoded = parse_cbor(attestation_object)
    if decoded.get("fmt") == AttestationFormat.NONE.value and decoded.get("attStmt") != {}:
        raise CredentialRejected("none_attestation_statement", "a none attestation's attStmt must be an empty map")


def check_attestation_aaguid(attestation_object: bytes, aaguid: str) -> None:
    """§8.2: a packed attestation certificate's AAGUID extension must match authData."""
    parsed = parse_attestation_object(attestation_object)
    if parsed.fmt != AttestationFormat.PACKED or not parsed.att_stmt.x5c:
        return
    try:
        cert = x509.load_der_x509_certificate(parsed.att_stmt.x5c[0])
        ext = cert.extensions.get_extension_for_oid(FIDO_GEN_CE_AAGUID)
    except x509.ExtensionNotFound:
        return
    except ValueError as exc:
        raise CredentialRejected("attestation_aaguid", f"attestation certificate unreadable: {exc}") from exc
    raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else b""
    # The extension value is an OCTET STRING holding the 16 AAGUID bytes (DER: 04 10 ...).
    cert_aaguid = raw[2:] if len(raw) == 18 and raw[:2] == b"\x04\x10" else None
    if cert_aaguid is None or cert_aaguid.hex() != aaguid.replace("-", ""):
        raise CredentialRejected(
            "attestation_aaguid", "the attestation certificate's AAGUID differs from the authenticator's"
        )
