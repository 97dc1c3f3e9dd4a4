"""Registration helpers for tests: creation options decoded, a started registration with a
matching credential, one full register-and-verify, and rows read straight from the database."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from sqlalchemy import create_engine, text
from zitadel.user.v2 import user_service_pb2 as pb

from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.servers import Client
from tests.support.signin import as_struct, b64decode

__all__ = ["Pending", "as_struct", "b64decode", "options_of", "pending_verify", "register_and_verify", "rows"]


def options_of(response: pb.RegisterPasskeyResponse) -> dict:
    return json_format.MessageToDict(response.public_key_credential_creation_options)["publicKey"]


def pending_verify(client: Client) -> tuple[str, pb.RegisterPasskeyResponse, pb.VerifyPasskeyRegistrationRequest]:
    """A new user, a started registration and the verify request of a valid credential for it."""
    user_id = client.add_user()
    started = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
    credential = SoftAuthenticator().register(
        challenge=b64decode(options_of(started)["challenge"]), origin=ORIGIN, rp_id=RP_ID
    )
    verify = pb.VerifyPasskeyRegistrationRequest(
        user_id=user_id, passkey_id=started.passkey_id, public_key_credential=as_struct(credential), passkey_name="k"
    )
    return user_id, started, verify


def rows(url: str, sql: str, **params: object) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(sql), params).mappings()]
    finally:
        engine.dispose()


def register_and_verify(
    client: Client, user_id: str, auth: SoftAuthenticator, *, name: str = "my key", **register: object
) -> tuple[str, pb.VerifyPasskeyRegistrationResponse]:
    started = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
    challenge = b64decode(options_of(started)["challenge"])
    credential = auth.register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, **register)
    verified = client.stub.VerifyPasskeyRegistration(
        pb.VerifyPasskeyRegistrationRequest(
            user_id=user_id,
            passkey_id=started.passkey_id,
            public_key_credential=as_struct(credential),
            passkey_name=name,
        )
    )
    return started.passkey_id, verified


class Pending:
    """A user (a new one unless `user_id` names one) with a started registration and a
    matching, valid credential."""

    def __init__(
        self, client: Client, auth: SoftAuthenticator | None = None, *, user_id: str | None = None, **register: Any
    ) -> None:
        self.client = client
        self.user_id = user_id or client.add_user()
        started = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=self.user_id))
        self.passkey_id = started.passkey_id
        self.challenge = b64decode(options_of(started)["challenge"])
        self.auth = auth or SoftAuthenticator()
        self.credential = self.auth.register(challenge=self.challenge, origin=ORIGIN, rp_id=RP_ID, **register)

    def request(self, **overrides: Any) -> pb.VerifyPasskeyRegistrationRequest:
        fields: dict[str, Any] = {
            "user_id": self.user_id,
            "passkey_id": self.passkey_id,
            "public_key_credential": as_struct(self.credential),
            "passkey_name": "key",
        }
        fields.update(overrides)
        return pb.VerifyPasskeyRegistrationRequest(**fields)

    def verify(self, **overrides: Any) -> pb.VerifyPasskeyRegistrationResponse:
        return self.client.stub.VerifyPasskeyRegistration(self.request(**overrides))
