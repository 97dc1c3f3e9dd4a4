"""A software WebAuthn authenticator: builds registration responses and sign-in assertions the way a
browser would hand them over.

Built on cryptography + cbor2 only, because PyPI's soft-webauthn pulls an old fido2 that breaks webauthn 3.x.
Every flag and client-data field can be set wrong on purpose, so tests can drive each verification check.
Attestation formats: none, packed (self), packed-x5c, fido-u2f, tpm and android-safetynet, their
certificates issued by an AttestationCA a test trusts (tests/support/attestation_certs.py), or self-signed.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
from base64 import b64encode, urlsafe_b64encode
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from tests.support.attestation_certs import (
    FIDO_GEN_CE_AAGUID,
    AttestationCA,
    Validity,
    aaguid_extension,
    issue,
    name,
    tpm_aik_extensions,
)

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

ES256, EDDSA, RS256, ES384, ES512 = -7, -8, -257, -35, -36
# COSE crv and coordinate size of each EC algorithm's curve.
_EC = {
    ES256: (1, 32, ec.SECP256R1, hashes.SHA256),
    ES384: (2, 48, ec.SECP384R1, hashes.SHA384),
    ES512: (3, 66, ec.SECP521R1, hashes.SHA512),
}

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40

__all__ = ["FIDO_GEN_CE_AAGUID", "AttestationCA", "SoftAuthenticator", "Validity", "b64url"]


def b64url(data: bytes) -> str:
    """base64url without padding, as the browsers' PublicKeyCredential.toJSON() writes binary fields."""
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def _generate(alg: int) -> PrivateKey:
    if alg in _EC:
        return ec.generate_private_key(_EC[alg][2]())
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
    # The COSE alg (and crv) written into the key, when not the key's own: a P-384 key labelled ES256.
    cose_alg: int | None = None
    cose_crv: int | None = None
    # Who issues the attestation certificate (None: self-signed) and for how long it is valid.
    attestation_ca: AttestationCA | None = None
    certificate_validity: Validity | None = None
    # android-safetynet verdicts.
    cts_profile_match: bool = True
    basic_integrity: bool = True
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
            crv, size = _EC[self.alg][:2]
            key = {1: 2, 3: self.alg, -1: crv, -2: nums.x.to_bytes(size, "big"), -3: nums.y.to_bytes(size, "big")}
        elif isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            key = {1: 1, 3: EDDSA, -1: 6, -2: raw}
        else:
            nums = public.public_numbers()
            key = {1: 3, 3: RS256, -1: nums.n.to_bytes(256, "big"), -2: nums.e.to_bytes(3, "big")}
        if self.cose_alg is not None:
            key[3] = self.cose_alg
        if self.cose_crv is not None:
            key[-1] = self.cose_crv
        return cbor2.dumps(key)

    def _sign(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(_EC[self.alg][3]()))
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

        attestation is "none", "packed" (self-attestation: signed with the credential key, no x5c),
        "packed-x5c" (full attestation: signed by an attestation key whose certificate is x5c[0]),
        "fido-u2f", "tpm" (an ES256 credential key) or "android-safetynet".
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
                "x5c": [
                    self._certificate(
                        name("soft authenticator"), [] if cert_aaguid is None else [aaguid_extension(cert_aaguid)]
                    )
                ],
            }
        elif attestation == "fido-u2f":
            att_stmt = self._u2f_statement(auth_data, client_data_json, rp_id, cose_key)
        elif attestation == "tpm":
            att_stmt = self._tpm_statement(auth_data, client_data_json)
        elif attestation == "android-safetynet":
            att_stmt = self._safetynet_statement(auth_data, client_data_json)
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

    def authenticate(
        self,
        *,
        challenge: bytes,
        origin: str,
        rp_id: str,
        user_handle: bytes | None = None,
        sign_count: int = 0,
        user_present: bool = True,
        user_verified: bool = True,
        backup_eligible: bool = False,
        backed_up: bool = False,
        client_data_type: str = "webauthn.get",
        cross_origin: bool | None = False,
        bad_signature: bool = False,
        authenticator_attachment: str | None = "platform",
    ) -> dict[str, Any]:
        """An assertion (navigator.credentials.get()) as browsers' toJSON() gives it, signed with
        this credential's key over authenticatorData || SHA-256(clientDataJSON) (WebAuthn §6.3.3).
        user_handle None leaves response.userHandle out; bad_signature flips one signature byte."""
        client_data: dict[str, Any] = {"type": client_data_type, "challenge": b64url(challenge), "origin": origin}
        if cross_origin is not None:
            client_data["crossOrigin"] = cross_origin
        client_data_json = json.dumps(client_data, separators=(",", ":")).encode()
        flags = 0
        for on, bit in ((user_present, UP), (user_verified, UV), (backup_eligible, BE), (backed_up, BS)):
            flags |= bit if on else 0
        auth_data = hashlib.sha256(rp_id.encode()).digest() + struct.pack(">BI", flags, sign_count)
        signature = self._sign(auth_data + hashlib.sha256(client_data_json).digest())
        if bad_signature:
            signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
        response: dict[str, Any] = {
            "clientDataJSON": b64url(client_data_json),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        if user_handle is not None:
            response["userHandle"] = b64url(user_handle)
        credential: dict[str, Any] = {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "clientExtensionResults": {},
            "response": response,
        }
        if authenticator_attachment is not None:
            credential["authenticatorAttachment"] = authenticator_attachment
        return credential

    def _certificate(self, subject: x509.Name, extensions: list[Any]) -> bytes:
        return issue(
            self.attestation_key.public_key(),
            subject,
            issuer=self.attestation_ca,
            signing_key=self.attestation_key,
            validity=self.certificate_validity,
            extensions=extensions,
        )

    def _u2f_statement(self, auth_data: bytes, client_data_json: bytes, rp_id: str, cose_key: bytes) -> dict[str, Any]:
        """§8.6: signed over 0x00 || rpIdHash || clientDataHash || credentialId || 0x04 || x || y,
        x and y as the COSE key holds them (so a wrong-sized key is signed as it is)."""
        key = cbor2.loads(cose_key)
        signed = (
            b"\x00"
            + hashlib.sha256(rp_id.encode()).digest()
            + hashlib.sha256(client_data_json).digest()
            + self.credential_id
            + b"\x04"
            + key[-2]
            + key[-3]
        )
        return {
            "sig": self.attestation_key.sign(signed, ec.ECDSA(hashes.SHA256())),
            "x5c": [self._certificate(name("soft U2F key"), [])],
        }

    def _tpm_statement(self, auth_data: bytes, client_data_json: bytes) -> dict[str, Any]:
        """§8.3: pubArea describing the (ES256) credential key, certInfo certifying it with
        extraData = SHA-256(authData || clientDataHash), signed by the AIK of aikCert."""
        public = self.private_key.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey) and self.alg == ES256, "tpm: ES256 credential keys"
        nums = public.public_numbers()
        x, y = nums.x.to_bytes(32, "big"), nums.y.to_bytes(32, "big")
        tpm2b = lambda data: struct.pack(">H", len(data)) + data  # noqa: E731
        # TPMT_PUBLIC: ECC, nameAlg SHA-256, attributes, no policy, ECC parameters (NULL symmetric,
        # NULL scheme, NIST P-256, NULL kdf), unique = the point.
        pub_area = (
            struct.pack(">HHI", 0x0023, 0x000B, 0x00060472)
            + tpm2b(b"")
            + struct.pack(">HHHH", 0x0010, 0x0010, 0x0003, 0x0010)
            + tpm2b(x)
            + tpm2b(y)
        )
        att_to_be_signed = auth_data + hashlib.sha256(client_data_json).digest()
        cert_info = (
            struct.pack(">IH", 0xFF544347, 0x8017)  # TPM_GENERATED_VALUE, TPM_ST_ATTEST_CERTIFY
            + tpm2b(b"")  # qualifiedSigner
            + tpm2b(hashlib.sha256(att_to_be_signed).digest())  # extraData
            + bytes(17)  # clockInfo
            + bytes(8)  # firmwareVersion
            + tpm2b(struct.pack(">H", 0x000B) + hashlib.sha256(pub_area).digest())  # attested name
            + tpm2b(b"")  # qualifiedName
        )
        aik_cert = self._certificate(x509.Name([]), tpm_aik_extensions())
        return {
            "ver": "2.0",
            "alg": ES256,
            "x5c": [aik_cert],
            "sig": self.attestation_key.sign(cert_info, ec.ECDSA(hashes.SHA256())),
            "certInfo": cert_info,
            "pubArea": pub_area,
        }

    def _safetynet_statement(self, auth_data: bytes, client_data_json: bytes) -> dict[str, Any]:
        """§8.5: a JWS (RS256) by attest.android.com whose nonce is
        base64(SHA-256(authData || clientDataHash)), with the device verdicts set."""
        leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        leaf = issue(
            leaf_key.public_key(),
            x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "attest.android.com")]),
            issuer=self.attestation_ca,
            signing_key=leaf_key,
            validity=self.certificate_validity,
        )
        nonce = b64encode(hashlib.sha256(auth_data + hashlib.sha256(client_data_json).digest()).digest()).decode()
        header = {"alg": "RS256", "x5c": [b64encode(leaf).decode()]}
        payload = {
            "nonce": nonce,
            "timestampMs": int(time.time() * 1000),
            "apkPackageName": "com.google.android.gms",
            "apkDigestSha256": "",
            "ctsProfileMatch": self.cts_profile_match,
            "apkCertificateDigestSha256": [],
            "basicIntegrity": self.basic_integrity,
        }
        signing_input = ".".join(b64url(json.dumps(part).encode()) for part in (header, payload))
        signature = leaf_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {"ver": "200616037", "response": f"{signing_input}.{b64url(signature)}".encode()}
