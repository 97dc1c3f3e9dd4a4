"""Test FIDO metadata (MDS3 payload) files: entries for software authenticators, with the roots
and status reports a test writes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.attestation_certs import AttestationCA


def key_identifier(public_key: ec.EllipticCurvePublicKey) -> str:
    """MDS3's attestationCertificateKeyIdentifier of a certificate with this key."""
    return x509.SubjectKeyIdentifier.from_public_key(public_key).digest.hex()


@dataclass
class Entry:
    name: str
    roots: list[AttestationCA]
    # (status, effectiveDate) in the order MDS lists them.
    statuses: list[tuple[str, str]] = field(default_factory=lambda: [("FIDO_CERTIFIED_L1", "2024-01-01")])
    aaguid: bytes | None = None
    key_identifiers: list[str] = field(default_factory=list)
    icon: str = "data:image/png;base64,iVBORw0KGgo="

    def json(self) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "legalHeader": "test",
            "description": self.name,
            "friendlyNames": {"en-US": self.name},
            "schema": 3,
            "attestationTypes": ["basic_full"],
            "attestationRootCertificates": [ca.der_base64 for ca in self.roots],
            "icon": self.icon,
        }
        entry: dict[str, Any] = {
            "metadataStatement": statement,
            "statusReports": [{"status": s, "effectiveDate": d} for s, d in self.statuses],
            "timeOfLastStatusChange": max((d for _, d in self.statuses), default="2024-01-01"),
        }
        if self.aaguid is not None:
            entry["aaguid"] = statement["aaguid"] = str(uuid.UUID(bytes=self.aaguid))
        if self.key_identifiers:
            entry["attestationCertificateKeyIdentifiers"] = statement["attestationCertificateKeyIdentifiers"] = (
                self.key_identifiers
            )
        return entry


def write_metadata(path: Path, entries: list[Entry], *, serial: int = 7, next_update: str = "2099-01-01") -> Path:
    payload = {"legalHeader": "test", "no": serial, "nextUpdate": next_update, "entries": [e.json() for e in entries]}
    path.write_text(json.dumps(payload))
    return path
