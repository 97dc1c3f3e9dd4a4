"""The attestation settings (PASSKEYS_ATTESTATION_POLICY and its kin) in config.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from passkeys.config import ConfigError, load_settings

YUBIKEY_5_NFC = "fa2b99dc-9e39-4257-8f92-4a30d23c4118"


def test_defaults_accept_any_authenticator() -> None:
    s = load_settings({})
    assert (s.attestation_policy, s.attestation, s.attestation_metadata_path) == ("none", "none", "")
    assert (s.attestation_min_certification, s.aaguid_allow, s.aaguid_deny) == ("", (), ())
    assert (s.device_bound_only, s.safetynet_allow_basic_integrity) == (False, False)


def test_mds_implies_direct_attestation_and_refuses_conveyances_that_hide_it() -> None:
    assert load_settings({"PASSKEYS_ATTESTATION_POLICY": "mds"}).attestation == "direct"
    for given in ("direct", "enterprise"):
        env = {"PASSKEYS_ATTESTATION_POLICY": "MDS", "PASSKEYS_ATTESTATION": given}
        assert load_settings(env).attestation == given
    for hidden in ("none", "indirect"):
        with pytest.raises(ConfigError, match=r"PASSKEYS_ATTESTATION: .*hides the attestation"):
            load_settings({"PASSKEYS_ATTESTATION_POLICY": "mds", "PASSKEYS_ATTESTATION": hidden})
    with pytest.raises(ConfigError, match="PASSKEYS_ATTESTATION_POLICY"):
        load_settings({"PASSKEYS_ATTESTATION_POLICY": "fido"})


def test_minimum_certification_needs_mds_and_a_known_level() -> None:
    env = {"PASSKEYS_ATTESTATION_POLICY": "mds", "PASSKEYS_ATTESTATION_MIN_CERTIFICATION": "L2plus"}
    assert load_settings(env).attestation_min_certification == "L2plus"
    with pytest.raises(ConfigError, match="is not one of L1, L1plus"):
        load_settings({**env, "PASSKEYS_ATTESTATION_MIN_CERTIFICATION": "L4"})
    with pytest.raises(ConfigError, match="needs PASSKEYS_ATTESTATION_POLICY=mds"):
        load_settings({"PASSKEYS_ATTESTATION_MIN_CERTIFICATION": "L1"})


def test_aaguid_lists() -> None:
    s = load_settings({"PASSKEYS_AAGUID_ALLOW": f" {YUBIKEY_5_NFC.upper()}, ", "PASSKEYS_AAGUID_DENY": ""})
    assert (s.aaguid_allow, s.aaguid_deny) == ((YUBIKEY_5_NFC,), ())
    for bad in ("fa2b99dc9e3942578f924a30d23c4118", "yubikey", f"{YUBIKEY_5_NFC}0"):
        with pytest.raises(ConfigError, match=r"PASSKEYS_AAGUID_DENY: .* is not an AAGUID"):
            load_settings({"PASSKEYS_AAGUID_DENY": bad})


def test_booleans() -> None:
    s = load_settings({"PASSKEYS_DEVICE_BOUND_ONLY": "yes", "PASSKEYS_SAFETYNET_ALLOW_BASIC_INTEGRITY": "true"})
    assert (s.device_bound_only, s.safetynet_allow_basic_integrity) == (True, True)
    with pytest.raises(ConfigError, match="PASSKEYS_DEVICE_BOUND_ONLY"):
        load_settings({"PASSKEYS_DEVICE_BOUND_ONLY": "maybe"})


def test_metadata_file_must_be_an_mds3_payload(tmp_path: Path) -> None:
    good = tmp_path / "mds.json"
    good.write_text(json.dumps({"no": 1, "nextUpdate": "2099-01-01", "entries": []}))
    assert load_settings({"PASSKEYS_ATTESTATION_METADATA_PATH": str(good)}).attestation_metadata_path == str(good)
    not_json = tmp_path / "x.json"
    not_json.write_text("{")
    wrong = tmp_path / "w.json"
    wrong.write_text(json.dumps({"keys": []}))
    for path, message in (
        (tmp_path / "missing.json", "is not a readable JSON file"),
        (not_json, "is not a readable JSON file"),
        (wrong, "is not an MDS3 metadata payload"),
    ):
        with pytest.raises(ConfigError, match=f"PASSKEYS_ATTESTATION_METADATA_PATH: .*{message}"):
            load_settings({"PASSKEYS_ATTESTATION_METADATA_PATH": str(path)})
