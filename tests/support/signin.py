"""Sign-in helpers for tests: a user with a READY passkey of a SoftAuthenticator, request options
decoded, and assertions as SetSession takes them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from zitadel.session.v2 import session_service_pb2 as spb
from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.authenticator import SoftAuthenticator
from tests.support.servers import Client


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def as_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


@dataclass
class Enrolled:
    user_id: str
    username: str
    passkey_id: str
    auth: SoftAuthenticator


def enrol(
    client: Client, *, origin: str, rp_id: str, auth: SoftAuthenticator | None = None, **register: Any
) -> Enrolled:
    """A new user with one READY passkey (registered and verified over gRPC as the instance owner)."""
    auth = auth or SoftAuthenticator()
    user_id = client.add_user()
    started = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
    options = json_format.MessageToDict(started.public_key_credential_creation_options)["publicKey"]
    username = options["user"]["name"]
    credential = auth.register(challenge=b64decode(options["challenge"]), origin=origin, rp_id=rp_id, **register)
    client.stub.VerifyPasskeyRegistration(
        pb.VerifyPasskeyRegistrationRequest(
            user_id=user_id,
            passkey_id=started.passkey_id,
            public_key_credential=as_struct(credential),
            passkey_name="k",
        )
    )
    return Enrolled(user_id, username, started.passkey_id, auth)


def request_options(challenges: Any) -> dict[str, Any]:
    """The `publicKey` of Challenges.web_auth_n.public_key_credential_request_options."""
    return json_format.MessageToDict(challenges.web_auth_n.public_key_credential_request_options)["publicKey"]


def challenge_of(challenges: Any) -> bytes:
    return b64decode(request_options(challenges)["challenge"])


def check_assertion(session_id: str, assertion: dict[str, Any]) -> spb.SetSessionRequest:
    return spb.SetSessionRequest(
        session_id=session_id, checks=spb.Checks(web_auth_n={"credential_assertion_data": as_struct(assertion)})
    )


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info
