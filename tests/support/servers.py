"""A real gRPC server on a loopback port, in the test process, with a client stub."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import grpc
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from passkeys import server
from passkeys.config import Settings


@dataclass
class Client:
    settings: Settings
    port: int
    channel: grpc.Channel
    stub: pb_grpc.UserServiceStub

    @property
    def url(self) -> str:
        return self.settings.database_url

    def add_user(self, email: str | None = None, **fields: object) -> str:
        import secrets

        email = email or f"u{secrets.token_hex(6)}@example.com"
        request = pb.AddHumanUserRequest(
            profile={"given_name": "Ada", "family_name": "Lovelace"}, email={"email": email}, **fields
        )
        return self.stub.AddHumanUser(request).user_id


@contextmanager
def running(settings: Settings) -> Iterator[Client]:
    running_server = server.start(replace(settings, grpc_addr="127.0.0.1:0"))
    channel = grpc.insecure_channel(f"127.0.0.1:{running_server.port}")
    try:
        yield Client(settings, running_server.port, channel, pb_grpc.UserServiceStub(channel))
    finally:
        channel.close()
        running_server.stop(grace=1)
