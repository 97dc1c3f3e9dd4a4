"""The test authenticator is only useful if the real verifier agrees with it: check both directions here."""

from __future__ import annotations

import uuid
from base64 import urlsafe_b64decode
from typing import Any

import cbor2
import pytest
from cryptography import x509
from webauthn import verify_registration_response
from webauthn.helpers.exceptions import InvalidBackupFlags, InvalidRegistrationResponse
from webauthn.helpers.structs import CredentialDeviceType

from tests.support.authenticator import FIDO_GEN_CE_AAGUID, SoftAuthenticator, b64url

ORIGIN, RP_ID, CHALLENGE = "https://login.example.com", "login.example.com", b"c" * 32
AAGUID = bytes(range(16))


def verify(credential: dict[str, Any], **kwargs: Any) -> Any:
    return verify_registration_response(
        credential=credential, expected_challenge=CHALLENGE, expected_rp_id=RP_ID, expected_origin=ORIGIN, **kwargs
    )


@pytest.mark.parametrize("alg", [-7, -8, -257])
@pytest.mark.parametrize("fmt", ["none", "packed"])
@pytest.mark.parametrize(
    "flags",
    [
        {"user_verified": True, "backup_eligible": True, "backed_up": True, "sign_count": 7},
        {"user_verified": False, "backup_eligible": False, "backed_up": False, "sign_count": 0},
    ],
    ids=["uv-synced", "no-uv-device-bound"],
)
def test_registration_verifies(alg: int, fmt: str, flags: dict[str, Any]) -> None:
    auth = SoftAuthenticator(alg=alg, aaguid=AAGUID)
    credential = auth.register(challenge=CHALLENGE, origin=ORIGIN, rp_id=RP_ID, attestation=fmt, **flags)
    assert credential["id"] == credential["rawId"] == b64url(auth.credential_id)
    assert credential["response"]["publicKeyAlgorithm"] == alg

    verified = verify(credential, require_user_verification=flags["user_verified"])

    assert verified.credential_id == auth.credential_id
    assert verified.credential_public_key == auth.cose_public_key()
    assert verified.sign_count == flags["sign_count"]
    assert verified.aaguid == str(uuid.UUID(bytes=AAGUID))
    assert verified.fmt == fmt
    assert verified.user_verified is flags["user_verified"]
    assert verified.credential_backed_up is flags["backed_up"]
    device_type = CredentialDeviceType.MULTI_DEVICE if flags["backup_eligible"] else CredentialDeviceType.SINGLE_DEVICE
    assert verified.credential_device_type == device_type


@pytest.mark.parametrize(
    ("register", "verify_kwargs"),
    [
        ({"user_verified": False}, {"require_user_verification": True}),
        ({"user_present": False}, {}),
        ({"origin": "https://evil.example.com"}, {}),
        ({"rp_id": "example.com"}, {}),
        ({"challenge": b"d" * 32}, {}),
        ({"client_data_type": "webauthn.get"}, {}),
    ],
    ids=["no-uv", "no-up", "origin", "rp-id", "challenge", "type-get"],
)
def test_bad_registration_is_rejected(register: dict[str, Any], verify_kwargs: dict[str, Any]) -> None:
    params: dict[str, Any] = {"challenge": CHALLENGE, "origin": ORIGIN, "rp_id": RP_ID, **register}
    with pytest.raises(InvalidRegistrationResponse):
        verify(SoftAuthenticator().register(**params), **verify_kwargs)


def test_backed_up_without_backup_eligible_is_rejected() -> None:
    credential = SoftAuthenticator().register(challenge=CHALLENGE, origin=ORIGIN, rp_id=RP_ID, backed_up=True)
    with pytest.raises(InvalidBackupFlags):
        verify(credential)


@pytest.mark.parametrize("alg", [-7, -8, -257])
def test_tampered_packed_signature_is_rejected(alg: int) -> None:
    credential = SoftAuthenticator(alg=alg).register(
        challenge=CHALLENGE, origin=ORIGIN, rp_id=RP_ID, attestation="packed"
    )
    raw = credential["response"]["attestationObject"]
    obj = cbor2.loads(urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    sig = obj["attStmt"]["sig"]
    # Flip a byte in the middle: for ES256 that keeps the DER framing intact, so the signature check itself fails.
    middle = len(sig) // 2
    obj["attStmt"]["sig"] = sig[:middle] + bytes([sig[middle] ^ 0x01]) + sig[middle + 1 :]
    credential["response"]["attestationObject"] = b64url(cbor2.dumps(obj))
    with pytest.raises(InvalidRegistrationResponse):
        verify(credential)


@pytest.mark.parametrize("alg", [-7, -8, -257])
def test_packed_x5c_is_full_attestation_with_the_aaguid_extension(alg: int) -> None:
    auth = SoftAuthenticator(alg=alg, aaguid=AAGUID)
    credential = auth.register(challenge=CHALLENGE, origin=ORIGIN, rp_id=RP_ID, attestation="packed-x5c")
    verified = verify(credential)
    assert (verified.fmt, verified.aaguid) == ("packed", str(uuid.UUID(bytes=AAGUID)))
    raw = credential["response"]["attestationObject"]
    statement = cbor2.loads(urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))["attStmt"]
    cert = x509.load_der_x509_certificate(statement["x5c"][0])
    extension = cert.extensions.get_extension_for_oid(FIDO_GEN_CE_AAGUID).value
    assert isinstance(extension, x509.UnrecognizedExtension)
    assert extension.value == b"\x04\x10" + AAGUID
    # A tampered signature by the attestation key is caught too.
    statement["sig"] = statement["sig"][:-1] + bytes([statement["sig"][-1] ^ 1])
    obj = cbor2.loads(urlsafe_b64decode(raw + "=" * (-len(raw) % 4))) | {"attStmt": statement}
    credential["response"]["attestationObject"] = b64url(cbor2.dumps(obj))
    with pytest.raises(InvalidRegistrationResponse):
        verify(credential)
