"""The checks py_webauthn 3.0.1 leaves out (registration/strict.py), each proven through the real
server on a credential from the software authenticator, changed in exactly the one way the
check is about: INVALID_ARGUMENT, CREDENTIAL_REJECTED naming the check, every table unchanged;
and the same pending registration then verifies with the unchanged credential (so the one
change was the reason), or the setting that allows it lets it through.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from passkeys.config import Settings
from tests.support.authenticator import ES256, ES384, ES512, AttestationCA, SoftAuthenticator, Validity
from tests.support.databases import fresh_database
from tests.support.mutations import (
    attestation_of,
    with_attestation,
    with_client_data,
    with_cose_key,
    with_ids,
)
from tests.support.refusals import rejected
from tests.support.registration import Pending
from tests.support.servers import Client, running

AAGUID = bytes.fromhex("0f0e0d0c0b0a09080706050403020100")
TOP = "https://portal.example.org"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    # The checks are in the verifier, before any write: one backend is enough here.
    with fresh_database("sqlite", tmp_path) as url:
        yield url


def test_cross_origin_is_refused_unless_allowed(client: Client, settings: Settings) -> None:
    p = Pending(client, cross_origin=True)
    rejected(p, p.credential, "cross_origin")
    rejected(p, with_client_data(p.credential, crossOrigin="yes"), "cross_origin")  # any non-false value
    with running(replace(settings, allow_cross_origin=True)) as allowing:
        q = Pending(allowing, cross_origin=True)
        q.verify()


def test_top_origin_is_refused_unless_listed(client: Client, settings: Settings) -> None:
    p = Pending(client, cross_origin=True, top_origin=TOP)
    rejected(p, p.credential, "cross_origin")
    with running(replace(settings, allow_cross_origin=True)) as cross_only:
        q = Pending(cross_only, cross_origin=True, top_origin=TOP)
        rejected(q, q.credential, "top_origin")
        rejected(q, with_client_data(q.credential, topOrigin=["https://x"]), "top_origin")
    with running(replace(settings, allow_cross_origin=True, top_origins=(TOP,))) as listing:
        r = Pending(listing, cross_origin=True, top_origin=TOP)
        rejected(r, with_client_data(r.credential, topOrigin="https://other.example.org"), "top_origin")
        r.verify()


def test_raw_id_must_be_the_credential_id_in_authenticator_data(client: Client) -> None:
    p = Pending(client)
    # id and rawId agree with each other (the library compares those two) but not with authData.
    rejected(p, with_ids(p.credential, os.urandom(32)), "raw_id")
    rejected(p, with_ids(p.credential, p.auth.credential_id[:-1]), "raw_id")
    p.verify()


def test_credential_id_is_at_most_1023_bytes(client: Client) -> None:
    p = Pending(client, auth=SoftAuthenticator(credential_id=os.urandom(1024)))
    details = rejected(p, p.credential, "credential_id_length")
    assert "1024 bytes" in details
    # 1023 bytes is the largest allowed, and verifies.
    q = Pending(client, auth=SoftAuthenticator(credential_id=os.urandom(1023)))
    q.verify()


@pytest.mark.parametrize(
    "change",
    [
        {"x": bytes(32)},  # (0, y) is not on P-256
        {"y": bytes(32)},
        {"x": b"\x01" * 31},  # a coordinate of the wrong length
    ],
    ids=["x-zero", "y-zero", "short-x"],
)
@pytest.mark.parametrize("attestation", ["none", "packed"])
def test_public_key_must_be_a_point_on_its_curve(client: Client, change: dict[str, bytes], attestation: str) -> None:
    # `none`: no signature covers the key, so only the strict check notices; packed
    # self-attestation: the library loads the key to check the signature made with it.
    p = Pending(client, attestation=attestation)
    rejected(p, with_cose_key(p.credential, **change), "public_key")
    p.verify()


def test_packed_certificate_aaguid_must_equal_authenticator_data(client: Client) -> None:
    wrong = SoftAuthenticator(aaguid=AAGUID, certificate_aaguid=bytes(range(16)))
    p = Pending(client, auth=wrong, attestation="packed-x5c")
    assert attestation_of(p.credential)["attStmt"]["x5c"]  # full attestation, not self
    details = rejected(p, p.credential, "attestation_aaguid")
    assert "AAGUID" in details
    # The matching extension verifies, and so does a certificate without the (optional) one.
    Pending(client, auth=SoftAuthenticator(aaguid=AAGUID), attestation="packed-x5c").verify()
    without = SoftAuthenticator(aaguid=AAGUID, omit_certificate_aaguid=True)
    Pending(client, auth=without, attestation="packed-x5c").verify()


def test_backup_state_without_backup_eligibility_is_refused(client: Client) -> None:
    p = Pending(client, backed_up=True, backup_eligible=False)
    rejected(p, p.credential, "backup_flags")
    Pending(client, backed_up=False, backup_eligible=True).verify()
    Pending(client, backed_up=True, backup_eligible=True).verify()


@pytest.mark.parametrize(
    "statement",
    [{"foo": 1}, {"sig": b"\x00" * 8}, {"alg": -7}, {"x5c": []}, {"": b""}],
    ids=["unknown-key", "sig", "alg", "empty-x5c", "empty-key"],
)
def test_none_attestation_statement_must_be_an_empty_map(client: Client, statement: dict[str, Any]) -> None:
    """WebAuthn §8.7: `none` attestation's attStmt is `{}`; anything in it is not what a
    conforming authenticator makes."""
    p = Pending(client)
    rejected(p, with_attestation(p.credential, attStmt=statement), "none_attestation_statement")
    rejected(p, with_attestation(p.credential, attStmt=[]), "none_attestation_statement")
    p.verify()


def test_key_curve_must_match_its_algorithm(client: Client) -> None:
    """§5.8.5: ES256 keys are P-256. A P-384 key labelled ES256 passed the library, in a
    fido-u2f attestation (signed over the key as it is) and in none."""
    mislabelled = SoftAuthenticator(alg=ES384, cose_alg=ES256)
    p = Pending(client, auth=mislabelled, attestation="fido-u2f", authenticator_attachment="cross-platform")
    details = rejected(p, p.credential, "public_key_curve")
    assert "must be EC2 P256" in details
    q = Pending(client, auth=SoftAuthenticator(alg=ES384, cose_alg=ES256))
    rejected(q, q.credential, "public_key_curve")
    # The unchanged key verifies, in both formats.
    Pending(client, auth=SoftAuthenticator(), attestation="fido-u2f").verify()
    Pending(client, auth=SoftAuthenticator()).verify()


def test_fido_u2f_key_is_an_uncompressed_p256_point(settings: Settings) -> None:
    """§8.6: a U2F credential key is 0x04 || x || y on P-256; an ES512 key (a P-521 point, 66-byte
    coordinates, consistent with its algorithm) in a fido-u2f attestation is not one."""
    with running(replace(settings, algorithms=(-7, -36))) as es512:
        p = Pending(es512, auth=SoftAuthenticator(alg=ES512), attestation="fido-u2f")
        rejected(p, p.credential, "u2f_public_key")
        # (And a P-256 key labelled ES512 is refused by §5.8.5 before any format check.)
        q = Pending(es512, auth=SoftAuthenticator(cose_alg=ES512), attestation="fido-u2f")
        rejected(q, q.credential, "public_key_curve")
        # The same key with another attestation is a valid ES512 credential.
        Pending(es512, auth=SoftAuthenticator(alg=ES512), attestation="packed").verify()
        Pending(es512, auth=SoftAuthenticator(), attestation="fido-u2f").verify()


def _tpm(validity: Validity | None = None, ca: AttestationCA | None = None) -> SoftAuthenticator:
    return SoftAuthenticator(
        aaguid=bytes.fromhex("08987058cadc4b81b6e130de50dcbe96"), certificate_validity=validity, attestation_ca=ca
    )


def test_tpm_attestation_certificate_must_be_valid_now(client: Client, settings: Settings) -> None:
    """§8.3: without roots the library never looked at the aikCert's validity period."""
    now = datetime.now(UTC)
    expired = Validity(now - timedelta(days=30), now - timedelta(minutes=5))
    not_yet = Validity(now + timedelta(minutes=5), now + timedelta(days=30))
    for validity, what in ((expired, "expired"), (not_yet, "not yet valid")):
        p = Pending(client, auth=_tpm(validity), attestation="tpm")
        details = rejected(p, p.credential, "tpm_certificate_validity")
        assert "not at" in details, what
    Pending(client, auth=_tpm(), attestation="tpm").verify()
    # With roots configured, OpenSSL's chain check refuses the expired certificate first.
    ca = AttestationCA()
    with running(replace(settings, attestation_roots={"tpm": (ca.pem,)})) as rooted:
        q = Pending(rooted, auth=_tpm(expired, ca), attestation="tpm")
        rejected(q, q.credential, "attestation_trust")
        Pending(rooted, auth=_tpm(ca=ca), attestation="tpm").verify()


def test_safetynet_needs_cts_profile_match_unless_basic_integrity_is_allowed(settings: Settings) -> None:
    ca = AttestationCA()
    roots = {"android-safetynet": (ca.pem,)}
    with running(replace(settings, attestation_roots=roots)) as strict_client:
        p = Pending(
            strict_client,
            auth=SoftAuthenticator(attestation_ca=ca, cts_profile_match=False),
            attestation="android-safetynet",
        )
        rejected(p, p.credential, "safetynet_cts_profile")
        Pending(strict_client, auth=SoftAuthenticator(attestation_ca=ca), attestation="android-safetynet").verify()
    with running(replace(settings, attestation_roots=roots, safetynet_allow_basic_integrity=True)) as lenient:
        Pending(
            lenient, auth=SoftAuthenticator(attestation_ca=ca, cts_profile_match=False), attestation="android-safetynet"
        ).verify()
        # basicIntegrity itself stays required (the library's own check).
        q = Pending(
            lenient,
            auth=SoftAuthenticator(attestation_ca=ca, cts_profile_match=False, basic_integrity=False),
            attestation="android-safetynet",
        )
        rejected(q, q.credential, "attestation_statement")
