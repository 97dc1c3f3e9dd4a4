"""Checks that py_webauthn 3.0.1 leaves out, one function each, in the order of the spec
(WebAuthn L3 §7.1 registration steps, §5.8.5 key algorithms, then §8's attestation formats).

Each raises CredentialRejected naming its check; they run after the library has verified
the ceremony, so their inputs are already known to be well-formed where the library parsed
them (clientDataJSON and rawId are re-read here because the library does not expose them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier
from webauthn.helpers import (
    base64url_to_bytes,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authenticator_data,
    parse_cbor,
)
from webauthn.helpers.cose import COSECRV, COSEKTY, COSEAlgorithmIdentifier, COSEKey
from webauthn.helpers.parse_attestation_statement import parse_attestation_statement
from webauthn.helpers.structs import AttestationFormat, AttestationObject

from passkeys.registration.errors import CredentialRejected

MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn L3 §5.1.3 credentialId
# id-fido-gen-ce-aaguid: in packed attestation certificates, it MUST equal authData's AAGUID.
FIDO_GEN_CE_AAGUID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
# §5.8.5: the curve each algorithm's key MUST use, with the size of its coordinates.
# (py_webauthn's enum has no ES384, -35.)
_CURVE_OF_ALGORITHM: dict[int, tuple[str, COSEKTY, COSECRV, int]] = {
    -7: ("ES256", COSEKTY.EC2, COSECRV.P256, 32),
    -35: ("ES384", COSEKTY.EC2, COSECRV.P384, 48),
    -36: ("ES512", COSEKTY.EC2, COSECRV.P521, 66),
    -8: ("EdDSA", COSEKTY.OKP, COSECRV.ED25519, 32),
}


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


def check_public_key_curve(cose_key: bytes) -> None:
    """§5.8.5: an ES256 key MUST be on P-256 (ES384 P-384, ES512 P-521, EdDSA Ed25519), its
    point not compressed. The library loads the key by its crv alone, so a P-384 key labelled
    ES256 registers and then verifies nothing it should."""
    key = parse_cbor(cose_key)
    if not isinstance(key, dict):
        raise CredentialRejected("public_key", "credential public key is not a COSE_Key map")
    alg = key.get(COSEKey.ALG)
    if alg not in _CURVE_OF_ALGORITHM:
        return  # RS256, ML-DSA: no curve
    name, kty, crv, size = _CURVE_OF_ALGORITHM[alg]
    if key.get(COSEKey.KTY) != kty or key.get(COSEKey.CRV) != crv:
        raise CredentialRejected(
            "public_key_curve",
            f"a key of algorithm {name} must be {kty.name} {crv.name}, "
            f"this one is kty {str(key.get(COSEKey.KTY))[:20]} crv {str(key.get(COSEKey.CRV))[:20]}",
        )
    coordinates = [key.get(COSEKey.X)] + ([key.get(COSEKey.Y)] if kty == COSEKTY.EC2 else [])
    if any(not isinstance(c, bytes) or len(c) != size for c in coordinates):
        raise CredentialRejected("public_key_curve", f"a {crv.name} key needs uncompressed {size}-byte coordinates")


def check_attestation_aaguid(parsed: AttestationObject, aaguid: str) -> None:
    """§8.2.1: a packed attestation certificate's AAGUID extension must match authData."""
    if parsed.fmt != AttestationFormat.PACKED or not parsed.att_stmt.x5c:
        return
    cert = _certificate(parsed.att_stmt.x5c[0])
    try:
        ext = cert.extensions.get_extension_for_oid(FIDO_GEN_CE_AAGUID)
    except x509.ExtensionNotFound:
        return
    except ValueError as exc:  # a malformed extension among them
        raise CredentialRejected("attestation_certificate", f"attestation certificate unreadable: {exc}") from exc
    raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else b""
    # The extension value is an OCTET STRING holding the 16 AAGUID bytes (DER: 04 10 ...).
    cert_aaguid = raw[2:] if len(raw) == 18 and raw[:2] == b"\x04\x10" else None
    if cert_aaguid is None or cert_aaguid.hex() != aaguid.replace("-", ""):
        raise CredentialRejected(
            "attestation_aaguid", "the attestation certificate's AAGUID differs from the authenticator's"
        )


def check_tpm_certificate_validity(parsed: AttestationObject, at: datetime) -> None:
    """§8.3.2 (aikCert, by RFC 5280 §4.1.2.5): the TPM attestation certificate must be valid
    now. The library only checks validity while building a chain to configured roots; without
    roots an expired aikCert passed."""
    if parsed.fmt != AttestationFormat.TPM or not parsed.att_stmt.x5c:
        return
    cert = _certificate(parsed.att_stmt.x5c[0])
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise CredentialRejected(
            "tpm_certificate_validity",
            f"the TPM attestation certificate is valid from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} "
            f"to {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, not at {at:%Y-%m-%d %H:%M} UTC",
        )


def check_safetynet_cts_profile(parsed: AttestationObject, *, allow_basic_integrity: bool) -> None:
    """§8.5 (SafetyNet's own rules): ctsProfileMatch says the device is a certified, unmodified
    one; the library requires basicIntegrity only, which a rooted device can pass."""
    if parsed.fmt != AttestationFormat.ANDROID_SAFETYNET or allow_basic_integrity or not parsed.att_stmt.response:
        return
    payload = json.loads(base64url_to_bytes(parsed.att_stmt.response.decode("ascii").split(".")[1]))
    if payload.get("ctsProfileMatch") is not True:
        raise CredentialRejected(
            "safetynet_cts_profile",
            "the SafetyNet attestation does not match a certified device profile (ctsProfileMatch)",
        )


def check_u2f_public_key(parsed: AttestationObject, cose_key: bytes) -> None:
    """§8.6.2: a fido-u2f credential key is an uncompressed P-256 point (x and y of 32 bytes,
    as U2F's 0x04 || x || y); the library signs over whatever sizes it is given."""
    if parsed.fmt != AttestationFormat.FIDO_U2F:
        return
    key = parse_cbor(cose_key)
    x, y = (key.get(COSEKey.X), key.get(COSEKey.Y)) if isinstance(key, dict) else (None, None)
    if (
        not isinstance(key, dict)
        or key.get(COSEKey.KTY) != COSEKTY.EC2
        or key.get(COSEKey.ALG) != COSEAlgorithmIdentifier.ECDSA_SHA_256
        or key.get(COSEKey.CRV) != COSECRV.P256
        or not (isinstance(x, bytes) and len(x) == 32 and isinstance(y, bytes) and len(y) == 32)
    ):
        raise CredentialRejected(
            "u2f_public_key", "a fido-u2f credential key must be an uncompressed P-256 ES256 point"
        )


def decode_attestation(attestation_object: bytes) -> tuple[dict[Any, Any], AttestationObject]:
    """The attestation object decoded once for every check: its CBOR map as it is (the checks
    of keys the library does not know need it) and the library's structure built from that map
    (parse_attestation_object's, without decoding the CBOR a second time). Called after the
    library verified it, so the map has fmt and authData."""
    decoded = parse_cbor(attestation_object)
    parsed = AttestationObject(fmt=decoded["fmt"], auth_data=parse_authenticator_data(decoded["authData"]))
    if "attStmt" in decoded:
        parsed.att_stmt = parse_attestation_statement(decoded["attStmt"])
    return decoded, parsed


def check_none_attestation_statement(decoded: Mapping[Any, Any]) -> None:
    """§8.7: a `none` attestation's attStmt is the empty map; the library only looks for the
    keys it knows (alg, sig, x5c, ...), so `{"foo": 1}` would pass it. `decoded`: the
    attestation object's CBOR map (decode_attestation)."""
    if decoded.get("fmt") == AttestationFormat.NONE.value and decoded.get("attStmt") != {}:
        raise CredentialRejected("none_attestation_statement", "a none attestation's attStmt must be an empty map")


def _certificate(der: bytes) -> x509.Certificate:
    """A certificate of x5c; the library has parsed it already, so this fails only for one it
    never looked at."""
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CredentialRejected("attestation_certificate", f"attestation certificate unreadable: {exc}") from exc
