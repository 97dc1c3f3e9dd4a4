"""Each check of registration/strict.py called directly: a credential from the software
authenticator passes it, the one change the check is about fails it, naming the check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import cbor2
import pytest
from webauthn.helpers import parse_attestation_object
from webauthn.helpers.structs import AttestationObject

from passkeys.registration import strict
from passkeys.registration.errors import CredentialRejected
from tests.support.authenticator import ES256, ES384, RS256, SoftAuthenticator
from tests.support.mutations import attestation_of, unb64, with_attestation, with_client_data

ORIGIN, RP_ID = "https://login.example.com", "login.example.com"
AAGUID = bytes.fromhex("0f0e0d0c0b0a09080706050403020100")


def credential(auth: SoftAuthenticator | None = None, **register: Any) -> dict[str, Any]:
    return (auth or SoftAuthenticator()).register(challenge=b"c" * 32, origin=ORIGIN, rp_id=RP_ID, **register)


def parsed(cred: dict[str, Any]) -> AttestationObject:
    return parse_attestation_object(unb64(cred["response"]["attestationObject"]))


def rejects(check: str, call: Callable[[], None]) -> None:
    with pytest.raises(CredentialRejected) as rejected:
        call()
    assert rejected.value.check == check
    assert f"failed the {check} check" in rejected.value.message


def cose(key: bytes, **labels: Any) -> bytes:
    numbers = {"kty": 1, "alg": 3, "crv": -1, "x": -2, "y": -3}
    decoded = cbor2.loads(key)
    decoded.update({numbers[name]: value for name, value in labels.items()})
    return cbor2.dumps(decoded)


def test_client_data_cross_origin_and_top_origin() -> None:
    same_origin = credential()
    strict.check_client_data(same_origin, allow_cross_origin=False, top_origins=())
    framed = credential(cross_origin=True)
    rejects("cross_origin", lambda: strict.check_client_data(framed, allow_cross_origin=False, top_origins=()))
    truthy = with_client_data(same_origin, crossOrigin="yes")
    rejects("cross_origin", lambda: strict.check_client_data(truthy, allow_cross_origin=False, top_origins=()))
    strict.check_client_data(framed, allow_cross_origin=True, top_origins=())
    top = credential(top_origin="https://portal.example.org")
    rejects("top_origin", lambda: strict.check_client_data(top, allow_cross_origin=True, top_origins=()))
    strict.check_client_data(top, allow_cross_origin=True, top_origins=("https://portal.example.org",))


def test_raw_id_is_the_credential_id() -> None:
    auth = SoftAuthenticator()
    cred = credential(auth)
    strict.check_raw_id(cred, auth.credential_id)
    rejects("raw_id", lambda: strict.check_raw_id(cred, auth.credential_id[:-1] + b"\0"))


def test_credential_id_length_at_most_1023_bytes() -> None:
    strict.check_credential_id_length(bytes(1023))
    rejects("credential_id_length", lambda: strict.check_credential_id_length(bytes(1024)))


def test_public_key_must_load() -> None:
    key = SoftAuthenticator().cose_public_key()
    strict.check_public_key(key)
    rejects("public_key", lambda: strict.check_public_key(cose(key, x=bytes(32))))  # off the curve


def test_public_key_curve_matches_the_algorithm() -> None:
    strict.check_public_key_curve(SoftAuthenticator(alg=ES384).cose_public_key())
    strict.check_public_key_curve(SoftAuthenticator(alg=RS256).cose_public_key())  # no curve to check
    mislabelled = SoftAuthenticator(alg=ES384, cose_alg=ES256).cose_public_key()  # a P-384 key as ES256
    rejects("public_key_curve", lambda: strict.check_public_key_curve(mislabelled))
    key = SoftAuthenticator().cose_public_key()
    short = cose(key, y=cbor2.loads(key)[-3][1:])
    rejects("public_key_curve", lambda: strict.check_public_key_curve(short))
    rejects("public_key", lambda: strict.check_public_key_curve(cbor2.dumps([1, 2])))


def test_attestation_certificate_aaguid_matches_auth_data() -> None:
    matching = credential(SoftAuthenticator(aaguid=AAGUID), attestation="packed-x5c")
    strict.check_attestation_aaguid(parsed(matching), AAGUID.hex())
    other = credential(SoftAuthenticator(aaguid=AAGUID, certificate_aaguid=bytes(16)), attestation="packed-x5c")
    rejects("attestation_aaguid", lambda: strict.check_attestation_aaguid(parsed(other), AAGUID.hex()))
    strict.check_attestation_aaguid(parsed(credential(SoftAuthenticator(aaguid=AAGUID))), bytes(16).hex())  # none


def test_tpm_certificate_valid_at_the_time() -> None:
    tpm = parsed(credential(attestation="tpm"))
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    strict.check_tpm_certificate_validity(tpm, datetime.now(UTC))
    rejects("tpm_certificate_validity", lambda: strict.check_tpm_certificate_validity(tpm, long_ago))
    strict.check_tpm_certificate_validity(parsed(credential()), long_ago)  # not tpm


def test_safetynet_needs_cts_profile_match_unless_allowed() -> None:
    certified = parsed(credential(attestation="android-safetynet"))
    strict.check_safetynet_cts_profile(certified, allow_basic_integrity=False)
    rooted = parsed(credential(SoftAuthenticator(cts_profile_match=False), attestation="android-safetynet"))
    rejects("safetynet_cts_profile", lambda: strict.check_safetynet_cts_profile(rooted, allow_basic_integrity=False))
    strict.check_safetynet_cts_profile(rooted, allow_basic_integrity=True)


def test_u2f_key_is_an_uncompressed_p256_es256_point() -> None:
    auth = SoftAuthenticator()
    u2f = parsed(credential(auth, attestation="fido-u2f"))
    key = auth.cose_public_key()
    strict.check_u2f_public_key(u2f, key)
    rejects("u2f_public_key", lambda: strict.check_u2f_public_key(u2f, cose(key, x=cbor2.loads(key)[-2][1:])))
    rejects("u2f_public_key", lambda: strict.check_u2f_public_key(u2f, cose(key, alg=-8)))
    strict.check_u2f_public_key(parsed(credential(auth)), cose(key, alg=-8))  # not fido-u2f


def test_none_attestation_statement_is_empty() -> None:
    cred = credential()
    strict.check_none_attestation_statement(strict.decode_attestation(unb64(cred["response"]["attestationObject"]))[0])
    stuffed = with_attestation(cred, attStmt={"foo": 1})
    rejects(
        "none_attestation_statement",
        lambda: strict.check_none_attestation_statement(
            strict.decode_attestation(unb64(stuffed["response"]["attestationObject"]))[0]
        ),
    )
    packed = credential(attestation="packed")
    assert attestation_of(packed)["attStmt"]
    strict.check_none_attestation_statement(
        strict.decode_attestation(unb64(packed["response"]["attestationObject"]))[0]
    )
