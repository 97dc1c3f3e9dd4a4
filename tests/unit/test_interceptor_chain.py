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
