"""A software WebAuthn authenticator: builds registration responses the way a browser would hand them over.

Built on cryptography + cbor2 only, because PyPI's soft-webauthn pulls an old fido2 that breaks webauthn 3.x.
Every flag and client-data field can be set wrong on purpose, so tests can drive each verification check.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import struct
from base64 import urlsafe_b64encode
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

ES256, EDDSA, RS256 = -7, -8, -257

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40

# id-fido-gen-ce-aaguid: the AAGUID extension of packed attestation certificates.
FIDO_GEN_CE_AAGUID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


def attestation_certificate(key: ec.EllipticCurvePrivateKey, aaguid: bytes | None) -> bytes:
    """A self-signed packed attestation certificate (DER) as §8.2.1 describes it; with the
    AAGUID extension (an OCTET STRING of the 16 bytes) unless aaguid is None."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Soft Authenticators"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
            x509.NameAttribute(NameOID.COMMON_NAME, "soft authenticator"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if aaguid is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(FIDO_GEN_CE_AAGUID, b"\x04\x10" + aaguid), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def b64url(data: bytes) -> str:
    """base64url without padding, as the browsers' PublicKeyCredential.toJSON() writes binary fields."""
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def _generate(alg: int) -> PrivateKey:
    if alg == ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if alg == EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    if alg == RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unsupported COSE alg {alg}")


@dataclass
class SoftAuthenticator:
    """One instance holds one credential: the key pair is made on construction and reused by register()."""

    alg: int = ES256
    aaguid: bytes = bytes(16)
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    # For "packed-x5c": the AAGUID in the attestation certificate (default: self.aaguid; None: no extension).
    certificate_aaguid: bytes | None = None
    omit_certificate_aaguid: bool = False
    private_key: PrivateKey = field(init=False, repr=False)
    attestation_key: ec.EllipticCurvePrivateKey = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.private_key = _generate(self.alg)
        self.attestation_key = ec.generate_private_key(ec.SECP256R1())

    def cose_public_key(self) -> bytes:
        """The COSE_Key embedded in authenticatorData, byte for byte what the verifier hands back."""
        public = self.private_key.public_key()
        key: dict[int, Any]
        if isinstance(public, ec.EllipticCurvePublicKey):
            nums = public.public_numbers()
            key = {1: 2, 3: ES256, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: nums.y.to_bytes(32, "big")}
        elif isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            key = {1: 1, 3: EDDSA, -1: 6, -2: raw}
        else:
            nums = public.public_numbers()
            key = {1: 3, 3: RS256, -1: nums.n.to_bytes(256, "big"), -2: nums.e.to_bytes(3, "big")}
        return cbor2.dumps(key)

    def _sign(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def register(
        self,
        *,
        challenge: bytes,
        origin: str,
        rp_id: str,
        attestation: str = "none",
        user_present: bool = True,
        user_verified: bool = True,
        backup_eligible: bool = False,
        backed_up: bool = False,
        sign_count: int = 0,
        client_data_type: str = "webauthn.create",
        cross_origin: bool | None = False,
        top_origin: str | None = None,
        transports: list[str] | None = None,
        authenticator_attachment: str | None = "platform",
    ) -> dict[str, Any]:
        """A PublicKeyCredential as browsers' toJSON() gives it (binary fields base64url without padding).

        attestation is "none", "packed" (self-attestation: signed with the credential key, no x5c)
        or "packed-x5c" (full attestation: signed by an attestation key whose certificate is x5c[0]).
        cross_origin=None and top_origin=None leave those keys out of clientDataJSON.
        """
        client_data: dict[str, Any] = {"type": client_data_type, "challenge": b64url(challenge), "origin": origin}
        if cross_origin is not None:
            client_data["crossOrigin"] = cross_origin
        if top_origin is not None:
            client_data["topOrigin"] = top_origin
        client_data_json = json.dumps(client_data, separators=(",", ":")).encode()

        flags = AT
        for on, bit in ((user_present, UP), (user_verified, UV), (backup_eligible, BE), (backed_up, BS)):
            flags |= bit if on else 0
        cose_key = self.cose_public_key()
        attested = self.aaguid + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose_key
        auth_data = hashlib.sha256(rp_id.encode()).digest() + struct.pack(">BI", flags, sign_count) + attested

        if attestation == "none":
            att_stmt: dict[str, Any] = {}
        elif attestation == "packed":
            client_data_hash = hashlib.sha256(client_data_json).digest()
            att_stmt = {"alg": self.alg, "sig": self._sign(auth_data + client_data_hash)}
        elif attestation == "packed-x5c":
            client_data_hash = hashlib.sha256(client_data_json).digest()
            cert_aaguid = None if self.omit_certificate_aaguid else (self.certificate_aaguid or self.aaguid)
            att_stmt = {
                "alg": ES256,
                "sig": self.attestation_key.sign(auth_data + client_data_hash, ec.ECDSA(hashes.SHA256())),
                "x5c": [attestation_certificate(self.attestation_key, cert_aaguid)],
            }
        else:
            raise ValueError(f"unsupported attestation {attestation!r}")
        fmt = "packed" if attestation == "packed-x5c" else attestation
        attestation_object = cbor2.dumps({"fmt": fmt, "attStmt": att_stmt, "authData": auth_data})

        spki = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        credential: dict[str, Any] = {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data_json),
                "attestationObject": b64url(attestation_object),
                "transports": ["internal"] if transports is None else transports,
                "authenticatorData": b64url(auth_data),
                "publicKey": b64url(spki),
                "publicKeyAlgorithm": self.alg,
            },
        }
        # Browsers give null for an unknown attachment; leaving the key out keeps the dict Struct-friendly too.
        if authenticator_attachment is not None:
            credential["authenticatorAttachment"] = authenticator_attachment
        return credential
