"""Provider names and icons by AAGUID (registration/providers.py), for real authenticators of the
vector corpus (tests/vectors/webauthn), passkey providers the corpus lacks, and unknown ones."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from passkeys.registration.metadata import load_metadata
from passkeys.registration.providers import ZERO_AAGUID, provider_of
from tests.support.attestation_certs import AttestationCA
from tests.support.metadata import Entry, write_metadata

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "webauthn"


def aaguid_of(vector: str) -> str:
    return json.loads((VECTORS / f"{vector}.json").read_text())["observed_webauthn_3_0_1"]["result"]["aaguid"]


@pytest.mark.parametrize(
    ("vector", "name"),
    [
        ("yubico_real_yubi_key5_nfc", "YubiKey 5 Series with NFC"),
        ("yubico_real_yubi_key5_nano", "YubiKey 5 Series"),
        ("tpm_windows_hello_dell_xps13_nuvoton", "Windows Hello"),
        ("android_key_pixel8a_2025", "Android Authenticator"),
        ("none_webauthn_io_l3_tojson_fields", "Chrome on Mac"),
    ],
)
def test_real_authenticators_of_the_corpus_are_named(vector: str, name: str) -> None:
    provider = provider_of(aaguid_of(vector), load_metadata())
    assert provider is not None and (provider.name, provider.source) == (name, "community")
    for icon in (provider.icon_light, provider.icon_dark):
        assert icon is not None and icon.startswith(("data:image/svg+xml;base64,", "data:image/png;base64,"))


def test_icloud_keychain_and_google_password_manager() -> None:
    # The corpus's Apple vectors carry no AAGUID of iCloud Keychain (Safari zeroes it, or the 2021
    # Touch ID one below); these are the AAGUIDs its passkeys have today.
    apple = provider_of("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", None)
    managed = provider_of("dd4ec289-e01d-41c9-bb89-70fa845d4bf2", None)
    google = provider_of("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", None)
    assert (apple and apple.name, managed and managed.name, google and google.name) == (
        "Apple Passwords",  # the community list's current name for iCloud Keychain
        "iCloud Keychain (Managed)",
        "Google Password Manager",
    )
    assert managed is not None and managed.icon_light != managed.icon_dark  # light and dark variants


@pytest.mark.parametrize(
    "vector",
    ["chromium_cdp_usb_key_direct", "apple_anonymous_touchid_2021", "w3c_spec_none_es256", "yubico_real_yubi_key4"],
)
def test_unknown_and_zero_aaguids_have_no_provider(vector: str) -> None:
    assert provider_of(aaguid_of(vector), load_metadata()) is None
    assert provider_of(ZERO_AAGUID, load_metadata()) is None


def test_security_keys_missing_from_the_community_list_are_named_from_the_metadata(tmp_path: Path) -> None:
    provider = provider_of("8CAF7E7B-6C8B-46A9-B36B-5D04740D7463", load_metadata())  # upper case too
    assert provider is not None
    assert (provider.name, provider.source) == ("cryptovision ePasslet Suite FIDO Authenticator", "mds")
    assert provider.icon_light and provider.icon_light.startswith("data:image/")
    aaguid = os.urandom(16)
    own = write_metadata(tmp_path / "mds.json", [Entry("In-house Key", [AttestationCA()], aaguid=aaguid)])
    found = provider_of(str(uuid.UUID(bytes=aaguid)), load_metadata(str(own)))
    assert found is not None and (found.name, found.source) == ("In-house Key", "mds")
    assert provider_of(str(uuid.UUID(bytes=aaguid)), None) is None  # no metadata: no name
