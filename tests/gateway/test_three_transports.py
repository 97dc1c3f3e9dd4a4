"""One credential verified over gRPC, JSON REST and grpc-web is stored the same way each time."""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf import struct_pb2
from sqlalchemy import create_engine, text
from zitadel.user.v2 import user_service_pb2 as pb

from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.gateway import Gateway

# Differ by nature between registrations: who, which passkey, when.
PER_REGISTRATION = {"id", "user_id", "created_at", "challenge_expires_at", "verified_at"}


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def stored(url: str, passkey_id: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            (row,) = conn.execute(text("SELECT * FROM passkeys WHERE id = :id"), {"id": passkey_id}).mappings()
            return dict(row)
    finally:
        engine.dispose()


def verify_over(gw: Gateway, transport: str, user_id: str, passkey_id: str, credential: dict[str, Any]) -> str:
    """The new event's sequence, as each transport reports it."""
    if transport == "rest":
        response = gw.rest(
            "POST",
            f"/v2/users/{user_id}/passkeys/{passkey_id}",
            {"publicKeyCredential": credential, "passkeyName": "Security key"},
        )
        assert response.status_code == 200, response.text
        return response.json()["details"]["sequence"]
    struct = struct_pb2.Struct()
    struct.update(credential)
    request = pb.VerifyPasskeyRegistrationRequest(
        user_id=user_id, passkey_id=passkey_id, public_key_credential=struct, passkey_name="Security key"
    )
    if transport == "grpc":
        return str(gw.grpc.stub.VerifyPasskeyRegistration(request).details.sequence)
    reply = gw.grpc_web("VerifyPasskeyRegistration", request, text=transport == "grpc-web-text")
    assert reply.code == 0, reply.message
    return str(pb.VerifyPasskeyRegistrationResponse.FromString(reply.messages[0]).details.sequence)


def test_the_same_registration_is_stored_alike_over_every_transport(gw: Gateway) -> None:
    auth = SoftAuthenticator(aaguid=bytes(range(16)))
    rows = {}
    for transport in ("grpc", "rest", "grpc-web", "grpc-web-text"):
        user_id = gw.grpc.add_user()
        started = gw.grpc.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
        challenge = b64decode(started.public_key_credential_creation_options["publicKey"]["challenge"])
        credential = auth.register(
            challenge=challenge,
            origin=ORIGIN,
            rp_id=RP_ID,
            attestation="packed",
            backup_eligible=True,
            sign_count=3,
            transports=["usb", "nfc"],
        )
        assert verify_over(gw, transport, user_id, started.passkey_id, credential) == "3"
        row = stored(gw.grpc.url, started.passkey_id)
        assert row["user_id"] == user_id
        rows[transport] = {k: v for k, v in row.items() if k not in PER_REGISTRATION}
        # The credential may be registered again once its passkey is gone.
        gw.grpc.stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=user_id, passkey_id=started.passkey_id))

    assert rows["grpc"]["state"] == 2
    assert bytes(rows["grpc"]["credential_id"]) == auth.credential_id
    assert bytes(rows["grpc"]["public_key"]) == auth.cose_public_key()
    assert rows["grpc"]["attestation_format"] == "packed"
    assert rows["grpc"]["name"] == "Security key"
    assert rows["rest"] == rows["grpc"]
    assert rows["grpc-web"] == rows["grpc"]
    assert rows["grpc-web-text"] == rows["grpc"]
