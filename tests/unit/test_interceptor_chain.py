"""The interceptor stack: one concern each, in the order of the single interceptor they replace,
composed once per method."""

from __future__ import annotations

from typing import Any

import grpc

from passkeys.api import interceptors
from passkeys.api.interceptors import Call, Chain


def test_the_service_stack_and_its_order() -> None:
    assert [type(i).__name__ for i in interceptors.stack().interceptors] == [
        "AccessLog",
        "Metrics",
        "ErrorsToStatus",
        "RefuseUndecodable",
        "Deadline",
    ]


class Recorder:
    def __init__(self, name: str, seen: list[str]) -> None:
        self.name, self.seen = name, seen

    def intercept(self, proceed: Any, request: Any, context: Any, call: Call) -> Any:
        self.seen.append(f"{self.name}>")
        try:
            return proceed(request, context, call)
        finally:
            self.seen.append(f"<{self.name}")


class Details:
    method = "/svc/Method"


def test_a_chain_runs_outermost_first_and_is_built_once_per_method() -> None:
    seen: list[str] = []
    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: (seen.append("handler"), request)[1])
    chain = Chain(Recorder("a", seen), Recorder("b", seen))
    wrapped = chain.intercept_service(lambda _: handler, Details())  # type: ignore[arg-type]
    assert chain.intercept_service(lambda _: handler, Details()) is wrapped  # type: ignore[arg-type]
    assert wrapped.unary_unary("request", None) == "request"
    assert seen == ["a>", "b>", "handler", "<b", "<a"]


def test_request_bytes_are_parsed_by_the_handler_not_by_grpc() -> None:
    """grpc.aio deserializes each message on its event loop as it arrives, so a call still
    waiting for a handler thread would hold its request parsed as well as its bytes (a 1 MiB
    credential twice): the chain registers no deserializer and parses in the handler."""
    parsed: list[bytes] = []

    def deserialize(data: bytes) -> str:
        parsed.append(data)
        return data.decode()

    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: request, request_deserializer=deserialize)
    wrapped = Chain(Recorder("a", [])).intercept_service(lambda _: handler, Details())  # type: ignore[arg-type]
    assert wrapped.request_deserializer is None
    assert parsed == []
    assert wrapped.unary_unary(b"bytes", None) == "bytes"
    assert parsed == [b"bytes"]
