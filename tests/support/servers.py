"""A real gRPC server on a loopback port, in the test process, with a client stub that sends
the admin token the server wrote on its first start (so tests act as the instance owner
unless they ask for another caller with `stub_for`)."""

from __future__ import annotations

import base64
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc
from zitadel.session.v2 import session_service_pb2_grpc as session_grpc
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from passkeys import server
from passkeys.config import Settings

# The admin token of each database: written once, on the first start against it.
_ADMIN_TOKENS: dict[str, str] = {}
# The outbox key of each database (PASSKEYS_OUTBOX_KEY), unless the test brings its own.
_OUTBOX_KEYS: dict[str, str] = {}


class _Bearer(grpc.UnaryUnaryClientInterceptor):
    """Adds `authorization: Bearer <token>` unless the call brings its own."""

    def __init__(self, token: str) -> None:
        self.value = f"Bearer {token}"

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        metadata = list(details.metadata or [])
        if not any(k == "authorization" for k, _ in metadata):
            metadata.append(("authorization", self.value))
        return continuation(details._replace(metadata=metadata), request)  # type: ignore[attr-defined]


@dataclass
class Client:
    settings: Settings
    port: int
    channel: grpc.Channel  # no credentials: add your own metadata
    admin_token: str
    stub: pb_grpc.UserServiceStub = field(init=False)  # as the instance owner

    def __post_init__(self) -> None:
        self.stub = self.stub_for(self.admin_token)

    @property
    def url(self) -> str:
        return self.settings.database_url

    def stub_for(self, token: str | None) -> pb_grpc.UserServiceStub:
        """A stub sending `Bearer <token>`; None for no authorization at all."""
        if token is None:
            return pb_grpc.UserServiceStub(self.channel)
        return pb_grpc.UserServiceStub(grpc.intercept_channel(self.channel, _Bearer(token)))

    def sessions_for(self, token: str | None) -> session_grpc.SessionServiceStub:
        """A SessionService stub sending `Bearer <token>`; None for no authorization at all."""
        if token is None:
            return session_grpc.SessionServiceStub(self.channel)
        return session_grpc.SessionServiceStub(grpc.intercept_channel(self.channel, _Bearer(token)))

    def add_user(self, email: str | None = None, **fields: object) -> str:
        email = email or f"u{secrets.token_hex(6)}@example.com"
        request = pb.AddHumanUserRequest(
            profile={"given_name": "Ada", "family_name": "Lovelace"}, email={"email": email}, **fields
        )
        return self.stub.AddHumanUser(request).user_id


@contextmanager
def running(settings: Settings) -> Iterator[Client]:
    if not settings.outbox_key:
        key = _OUTBOX_KEYS.setdefault(settings.database_url, base64.b64encode(secrets.token_bytes(32)).decode())
        settings = replace(settings, outbox_key=key)
    with tempfile.TemporaryDirectory() as tmp:
        pat_path = Path(tmp) / "admin.pat"
        running_server = server.start(replace(settings, grpc_addr="127.0.0.1:0", admin_pat_path=str(pat_path)))
        if pat_path.exists():
            _ADMIN_TOKENS[settings.database_url] = pat_path.read_text().strip()
        channel = grpc.insecure_channel(f"127.0.0.1:{running_server.port}")
        try:
            yield Client(settings, running_server.port, channel, _ADMIN_TOKENS[settings.database_url])
        finally:
            channel.close()
            running_server.stop(grace=1)
