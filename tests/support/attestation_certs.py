"""Attestation certificates for the software authenticator: a root CA that a test names as a
trust root (in PASSKEYS_ATTESTATION_ROOTS_DIR-style settings or a test MDS file), and the leaf
certificates each format needs (packed §8.2.1, TPM aikCert §8.3.1, SafetyNet's attest.android.com,
fido-u2f), valid for any period a test chooses."""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

# id-fido-gen-ce-aaguid: the AAGUID extension of packed attestation certificates.
FIDO_GEN_CE_AAGUID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
# TPMv2-EK-Profile §3.2.9: the aikCert's subject alternative name, and its EKU (tcg-kp-AIKCertificate).
TCG_AT_TPM_MANUFACTURER = ObjectIdentifier("2.23.133.2.1")
TCG_AT_TPM_MODEL = ObjectIdentifier("2.23.133.2.2")
TCG_AT_TPM_VERSION = ObjectIdentifier("2.23.133.2.3")
TCG_KP_AIK_CERTIFICATE = ObjectIdentifier("2.23.133.8.3")

IssuerKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def name(common_name: str, unit: str = "Authenticator Attestation") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Soft Authenticators"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass
class Validity:
    not_before: datetime.datetime = field(default_factory=lambda: _now() - datetime.timedelta(days=1))
    not_after: datetime.datetime = field(default_factory=lambda: _now() + datetime.timedelta(days=1))


@dataclass
class AttestationCA:
    """A self-signed root that issues attestation certificates."""

    common_name: str = "Soft Attestation Root CA"
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    certificate: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        subject = name(self.common_name, "Root")
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(days=3650))
            .not_valid_after(_now() + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def der_base64(self) -> str:
        """As MDS3's attestationRootCertificates holds it."""
        return base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()


def issue(
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    subject: x509.Name,
    *,
    issuer: AttestationCA | None,
    signing_key: IssuerKey,
    validity: Validity | None = None,
    extensions: list[tuple[x509.ExtensionType, bool]] = (),  # type: ignore[assignment]
) -> bytes:
    """A leaf certificate (DER) for `public_key`, issued by `issuer`, else self-signed with
    `signing_key` (the leaf's own private key)."""
    validity = validity or Validity()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity.not_before)
        .not_valid_after(validity.not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    key = issuer.key if issuer else signing_key
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def aaguid_extension(aaguid: bytes) -> tuple[x509.ExtensionType, bool]:
    """id-fido-gen-ce-aaguid: an OCTET STRING of the 16 AAGUID bytes."""
    return x509.UnrecognizedExtension(FIDO_GEN_CE_AAGUID, b"\x04\x10" + aaguid), False


def tpm_aik_extensions(manufacturer: str = "id:494E5443") -> list[tuple[x509.ExtensionType, bool]]:
    """§8.3.1: SAN with the TPM manufacturer, model and version (a directoryName), critical
    because the subject is empty; EKU tcg-kp-AIKCertificate."""
    tpm = x509.Name(
        [
            x509.RelativeDistinguishedName([x509.NameAttribute(TCG_AT_TPM_MANUFACTURER, manufacturer)]),
            x509.RelativeDistinguishedName([x509.NameAttribute(TCG_AT_TPM_MODEL, "SoftTPM")]),
            x509.RelativeDistinguishedName([x509.NameAttribute(TCG_AT_TPM_VERSION, "id:00020000")]),
        ]
    )
    return [
        (x509.SubjectAlternativeName([x509.DirectoryName(tpm)]), True),
        (x509.ExtendedKeyUsage([TCG_KP_AIK_CERTIFICATE]), False),
    ]
