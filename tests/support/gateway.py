"""A real Envoy in front of a real gRPC server, with the HTTP clients the gateway tests use.

Every REST and grpc-web request is built here (`Gateway.rest`, `Gateway.grpc_web`), so a header
every call needs (authorization, once the service requires it) is added in one place: HEADERS.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from passkeys import gateway
from passkeys.config import Settings
from passkeys.envoy_config import Address
from tests.support.grpc_web import frame, unframe
from tests.support.servers import Client, running

# Sent with every REST and grpc-web call.
HEADERS: dict[str, str] = {}

SERVICE_PATH = "/zitadel.user.v2.UserService"


@dataclass
class GrpcWebReply:
    http_status: int
    headers: httpx.Headers
    messages: list[bytes]
    trailers: dict[str, str]

    def _meta(self, name: str) -> str | None:
        # Trailers arrive in the body after a message, or as headers when the call fails first.
        return self.trailers.get(name, self.headers.get(name))

    @property
    def code(self) -> int:
        return int(self._meta("grpc-status") or "-1")

    @property
    def message(self) -> str:
        return self._meta("grpc-message") or ""

    def status(self) -> status_pb2.Status:
        raw = self._meta("grpc-status-details-bin") or ""
        return status_pb2.Status.FromString(base64.b64decode(raw + "=" * (-len(raw) % 4)))

    def error_info(self) -> error_details_pb2.ErrorInfo:
        (detail,) = self.status().details
        info = error_details_pb2.ErrorInfo()
        assert detail.Unpack(info)
        return info


def _decode_text(body: bytes) -> bytes:
    # grpc-web-text may be several base64 chunks, each padded: decode 4 characters at a time.
    compact = b"".join(body.split())
    return b"".join(base64.b64decode(compact[i : i + 4]) for i in range(0, len(compact), 4))


@dataclass
class Gateway:
    grpc: Client
    base_url: str
    http: httpx.Client
    envoy: gateway.RunningEnvoy
    origins: tuple[str, ...] = field(default=())

    def rest(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return self.http.request(method, path, **kwargs)

    def grpc_web(
        self,
        method: str,
        request: Message,
        *,
        text: bool = False,
        headers: dict[str, str] | None = None,
        service: str = SERVICE_PATH,
    ) -> GrpcWebReply:
        content_type = "application/grpc-web-text" if text else "application/grpc-web+proto"
        body = frame(request.SerializeToString())
        response = self.http.post(
            f"{service}/{method}",
            content=base64.b64encode(body) if text else body,
            headers={"content-type": content_type, "accept": content_type, "x-grpc-web": "1", **(headers or {})},
        )
        raw = _decode_text(response.content) if text else response.content
        messages, trailers = unframe(raw)
        return GrpcWebReply(response.status_code, response.headers, messages, trailers)


@contextmanager
def serving(settings: Settings) -> Iterator[Gateway]:
    """The gRPC server and Envoy on loopback ports the OS picks; both stopped afterwards."""
    with (
        running(settings) as client,
        gateway.envoy(
            listen=Address("127.0.0.1", 0), upstream=Address("127.0.0.1", client.port), origins=settings.origins
        ) as proxy,
    ):
        base_url = f"http://127.0.0.1:{proxy.port}"
        # The admin's token by default, as the gRPC client sends it; a test replaces it per call.
        headers = {"authorization": f"Bearer {client.admin_token}", **HEADERS}
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
            yield Gateway(grpc=client, base_url=base_url, http=http, envoy=proxy, origins=settings.origins)
