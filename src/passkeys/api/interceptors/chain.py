"""Interceptors in the style of grpc-interceptor: each one `intercept(proceed, request, context,
call)` and does one thing; `Chain` composes them once per method, so a call pays one Python
call per interceptor. `Call` is what they share about one call: its method, its start, and the
outcome (code, reason, error) that the error mapping decides and the log and metrics report."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import grpc

from passkeys.errors import DomainError

Proceed = Callable[[Any, grpc.ServicerContext, "Call"], Any]
Deserializer = Callable[[bytes], Any]


class Call:
    __slots__ = ("code", "error", "method", "reason", "response", "start")

    def __init__(self, method: str) -> None:
        self.method = method
        self.start = time.perf_counter()
        self.code = grpc.StatusCode.OK
        self.reason = ""
        self.error: DomainError | None = None
        self.response: Any = None


class Interceptor(Protocol):
    def intercept(self, proceed: Proceed, request: Any, context: grpc.ServicerContext, call: Call) -> Any: ...


def _handler(method: Callable[[Any, grpc.ServicerContext], Any]) -> Proceed:
    def innermost(request: Any, context: grpc.ServicerContext, call: Call) -> Any:
        call.response = method(request, context)
        return call.response

    return innermost


class Chain(grpc.ServerInterceptor):
    """`interceptors` outermost first; one that has `deserializer(inner)` also wraps the parsing
    of the request bytes."""

    def __init__(self, *interceptors: Interceptor) -> None:
        self.interceptors = interceptors
        # method -> (the handler grpc gave, ours): built on the first call of each method.
        self._handlers: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        cached = self._handlers.get(details.method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self.wrap(handler, details.method)
        self._handlers[details.method] = (handler, wrapped)
        return wrapped

    def wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        proceed = _handler(handler.unary_unary)
        deserializer = handler.request_deserializer
        for interceptor in reversed(self.interceptors):
            proceed = partial(interceptor.intercept, proceed)
            wrap_deserializer = getattr(interceptor, "deserializer", None)
            if wrap_deserializer is not None and deserializer is not None:
                deserializer = wrap_deserializer(deserializer)

        if deserializer is None:

            def unary(request: Any, context: grpc.ServicerContext) -> Any:
                return proceed(request, context, Call(method))
        else:
            parse = deserializer

            # The bytes parsed here, on the handler's thread, not by grpc.aio on its event loop
            # as each message arrives: a call waiting for a thread holds only its request's
            # bytes, not their parsed copy as well (a 1 MiB credential's Struct is as large).
            def unary(request: Any, context: grpc.ServicerContext) -> Any:
                return proceed(parse(request), context, Call(method))

        return grpc.unary_unary_rpc_method_handler(
            unary, request_deserializer=None, response_serializer=handler.response_serializer
        )
