"""PASSKEYS_ATTESTATION_POLICY and the AAGUID and backup settings through the real server: each
refusal is INVALID_ARGUMENT CREDENTIAL_REJECTED with its own check and leaves every table as it
was; the same server then accepts the authenticator the test metadata vouches for.

The metadata is a test MDS3 file (tests/support/metadata.py) whose entries list a test CA as the
root of software authenticators, with status reports written here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from passkeys.config import Settings
from tests.support.attestation_certs import AttestationCA
from tests.support.authenticator import SoftAuthenticator
from tests.support.databases import fresh_database
from tests.support.metadata import Entry, key_identifier, write_metadata
from tests.support.refusals import rejected
from tests.support.registration import Pending
from tests.support.servers import Client, running

CA = AttestationCA()
KNOWN, L2, OTHER = os.urandom(16), os.urandom(16), os.urandom(16)
# Each refusing status as the latest report of its own authenticator, after a certification.
REFUSED = {
    status: os.urandom(16)
    for status in (
        "REVOKED",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_VERIFICATION_BYPASS",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    )
}
# Compromised once, fixed later: the latest report counts.
RECOVERED = os.urandom(16)
U2F_KEY = SoftAuthenticator(attestation_ca=CA)  # fido-u2f: known by its certificate's key identifier


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    # The policy is decided in the verifier, before any write: one backend is enough here.
    with fresh_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
def metadata_file(tmp_path: Path) -> Path:
    entries = [
        Entry("Soft Key", [CA], aaguid=KNOWN),
        Entry(
            "Soft Key L2", [CA], [("FIDO_CERTIFIED_L1", "2023-01-01"), ("FIDO_CERTIFIED_L2", "2024-06-01")], aaguid=L2
        ),
        Entry("Soft U2F", [CA], key_identifiers=[key_identifier(U2F_KEY.attestation_key.public_key())]),
        Entry(
            "Soft Recovered",
            [CA],
            [
                ("FIDO_CERTIFIED_L1", "2023-01-01"),
                ("USER_VERIFICATION_BYPASS", "2024-01-01"),
                ("UPDATE_AVAILABLE", "2024-05-01"),
            ],
            aaguid=RECOVERED,
        ),
        *(
            Entry(f"Soft {status}", [CA], [("FIDO_CERTIFIED_L1", "2023-01-01"), (status, "2024-02-01")], aaguid=aaguid)
            for status, aaguid in REFUSED.items()
        ),
    ]
    return write_metadata(tmp_path / "metadata.json", entries)


@pytest.fixture
def mds(settings: Settings, metadata_file: Path) -> Iterator[Client]:
    with running(
        replace(settings, attestation_policy="mds", attestation_metadata_path=str(metadata_file), attestation="direct")
    ) as client:
        yield client


def pending(client: Client, aaguid: bytes = KNOWN, attestation: str = "packed-x5c", **auth: Any) -> Pending:
    return Pending(
        client, auth=SoftAuthenticator(aaguid=aaguid, **{"attestation_ca": CA, **auth}), attestation=attestation
    )


def test_mds_accepts_what_its_roots_vouch_for(mds: Client) -> None:
    pending(mds).verify()
    pending(mds, aaguid=KNOWN, attestation="tpm").verify()
    Pending(mds, auth=U2F_KEY, attestation="fido-u2f").verify()
    pending(mds, aaguid=RECOVERED).verify()  # its compromise report is not the latest


def test_mds_refuses_an_attestation_no_root_vouches_for(mds: Client) -> None:
    for p in (
        pending(mds, attestation_ca=AttestationCA()),  # another CA: the chain does not reach the entry's root
        pending(mds, attestation_ca=None),  # self-signed certificate
        pending(mds, attestation="packed"),  # self attestation: no chain at all
        pending(mds, attestation="none"),
        pending(mds, aaguid=OTHER),  # an authenticator the metadata does not know
        Pending(mds, auth=SoftAuthenticator(attestation_ca=CA), attestation="fido-u2f"),  # unknown key identifier
    ):
        rejected(p, p.credential, "attestation_trust")
    pending(mds).verify()


@pytest.mark.parametrize("status", sorted(REFUSED))
def test_mds_refuses_an_authenticator_whose_latest_status_is_a_compromise(mds: Client, status: str) -> None:
    p = pending(mds, aaguid=REFUSED[status])
    details = rejected(p, p.credential, "authenticator_status")
    assert status in details


def test_minimum_certification_level(settings: Settings, metadata_file: Path) -> None:
    with running(
        replace(
            settings,
            attestation_policy="mds",
            attestation_metadata_path=str(metadata_file),
            attestation_min_certification="L2",
        )
    ) as client:
        p = pending(client)  # certified L1 only
        details = rejected(p, p.credential, "certification_level")
        assert "L2 is required, the authenticator has L1" in details
        pending(client, aaguid=L2).verify()


def test_aaguid_allow_and_deny_lists_apply_under_either_policy(settings: Settings, metadata_file: Path) -> None:
    known, other = (str(uuid.UUID(bytes=a)) for a in (KNOWN, OTHER))
    with running(replace(settings, aaguid_deny=(other,))) as denying:
        p = Pending(denying, auth=SoftAuthenticator(aaguid=OTHER))
        rejected(p, p.credential, "aaguid_not_allowed")
        Pending(denying, auth=SoftAuthenticator(aaguid=KNOWN)).verify()
    mds_settings = replace(settings, attestation_policy="mds", attestation_metadata_path=str(metadata_file))
    with running(replace(mds_settings, aaguid_allow=(other,))) as allowing_other:
        # Attested and in the metadata, but not on the list.
        p = pending(allowing_other)
        rejected(p, p.credential, "aaguid_not_allowed")
    with running(replace(mds_settings, aaguid_allow=(known,))) as allowing:
        pending(allowing).verify()


def test_device_bound_only_refuses_backup_eligible_credentials(settings: Settings) -> None:
    with running(replace(settings, device_bound_only=True)) as client:
        for flags in ({"backup_eligible": True}, {"backup_eligible": True, "backed_up": True}):
            p = Pending(client, **flags)
            rejected(p, p.credential, "backup_eligible_not_allowed")
        Pending(client, backup_eligible=False).verify()
