"""Sign-in assertions of real authenticators (tests/vectors/signin, from py_webauthn's own test
suite) through registration/signin.py: each gives its expected outcome, and our stricter checks
(sign counter after the signature, userHandle, origin from configuration) act on them too."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from passkeys.registration.errors import AssertionRejected
from passkeys.registration.signin import SignCountRegressed, verify_assertion

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "signin" / "py_webauthn.json").read_text())
BY_NAME = {v["name"]: v for v in VECTORS["vectors"]}


def _bytes(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _verify(vector: dict[str, Any], **overrides: Any) -> Any:
    handle = vector["credential"]["response"].get("userHandle")
    arguments: dict[str, Any] = {
        "credential": vector["credential"],
        "challenge": _bytes(vector["challenge"]),
        "rp_id": vector["expected_rp_id"],
        "origins": (vector["expected_origin"],),
        "require_user_verification": vector["require_user_verification"],
        "public_key": _bytes(vector["public_key"]),
        "stored_sign_count": vector["stored_sign_count"],
        "stored_backup_eligible": None,
        "expected_user_handle": _bytes(handle) if handle else b"",
        "require_user_handle": False,
    }
    return verify_assertion(**{**arguments, **overrides})


@pytest.mark.parametrize("name", list(BY_NAME))
def test_each_vector_has_its_expected_outcome(name: str) -> None:
    vector = BY_NAME[name]
    if vector["expect"] == "ok":
        assert _verify(vector).sign_count == vector["sign_count"]
    else:
        with pytest.raises(AssertionRejected) as rejected:
            _verify(vector)
        assert rejected.value.check == vector["expect"]


def test_a_real_assertion_whose_counter_did_not_grow_is_refused() -> None:
    vector = BY_NAME["ec2_es256_counter_77_to_78"]
    with pytest.raises(SignCountRegressed):
        _verify(vector, stored_sign_count=78)
    flagged = _verify(vector, stored_sign_count=78, refuse_sign_count_regression=False)
    assert flagged.sign_count_regressed and flagged.sign_count == 78


def test_a_real_assertion_is_checked_against_our_origins_and_user_handle() -> None:
    vector = BY_NAME["rsa_rs256_uv_with_user_handle"]
    with pytest.raises(AssertionRejected) as rejected:
        _verify(vector, origins=("https://login.example.com",))
    assert rejected.value.check == "origin"
    with pytest.raises(AssertionRejected) as rejected:
        _verify(vector, expected_user_handle=b"someone else")
    assert rejected.value.check == "user_handle"
    with pytest.raises(AssertionRejected) as rejected:  # discoverable sign-in needs the handle
        _verify(BY_NAME["okp_eddsa_counter_3_to_7"], require_user_handle=True)
    assert rejected.value.check == "user_handle"
