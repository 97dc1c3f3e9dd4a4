"""The sync interceptors, unchanged, on grpc.aio's server.

grpc.aio runs a handler that is no coroutine on its thread pool (`migration_thread_pool`), only
once the request's message has arrived: a stream that never sends it holds no thread. The
interceptors stay sync code wrapping sync handlers, applied once per method when the services
are registered (`Intercepted`): a grpc.aio interceptor would run a coroutine and build a new
handler on the event loop for every call (issue 17: part of what a call costs on grpc.aio
beyond the sync server). The wrapped code gets a context with what a sync server's context has
and grpc.aio's sync-handler context lacks (abort_with_status, code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc


class _SyncContext:
    """grpc.aio's context for sync handlers, with abort_with_status and code as on the sync server."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self.status: grpc.Status | None = None
        self._code: grpc.StatusCode | None = None

    def abort_with_status(self, status: grpc.Status) -> None:
        # Sent when the wrapped code has returned, as the sync server does (its access log line
        # is written before the client has the answer). Not raised: grpc.aio would log that as
        # the handler's own unexpected error.
        self.status = status

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code  # as the generated base servicer's UNIMPLEMENTED
        self._context.set_code(code)

    def code(self) -> grpc.StatusCode | None:
        return self.status.code if self.status is not None else self._code

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class _Details(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


def adapt(interceptor: grpc.ServerInterceptor, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    """`handler` of `method` wrapped in `interceptor` (a sync one), to run on grpc.aio's pool."""
    wrapped = interceptor.intercept_service(lambda _: handler, _Details(method))
    if wrapped is handler or wrapped is None or wrapped.unary_unary is None:
        return wrapped
    inner = wrapped.unary_unary

    def call(request: Any, context: Any) -> Any:
        adapted = _SyncContext(context)
        response = inner(request, adapted)
        if adapted.status is not None:
            status = adapted.status
            context.abort(status.code, status.details, tuple(status.trailing_metadata or ()))
        return response

    return grpc.unary_unary_rpc_method_handler(
        call, request_deserializer=wrapped.request_deserializer, response_serializer=wrapped.response_serializer
    )


class _Generic(grpc.GenericRpcHandler):
    """A service's generic handler whose unary methods come out wrapped (once per method)."""

    def __init__(self, inner: grpc.GenericRpcHandler, interceptor: grpc.ServerInterceptor) -> None:
        self.inner = inner
        self.interceptor = interceptor
        self._wrapped: dict[str, grpc.RpcMethodHandler | None] = {}

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = details.method
        if method not in self._wrapped:
            handler = self.inner.service(details)
            self._wrapped[method] = None if handler is None else adapt(self.interceptor, handler, method)
        return self._wrapped[method]


class Intercepted:
    """The grpc.aio server as the generated `add_*Servicer_to_server` functions see it: each
    handler they register is wrapped in `interceptor` once, there."""

    def __init__(self, server: grpc.aio.Server, interceptor: grpc.ServerInterceptor) -> None:
        self.server = server
        self.interceptor = interceptor

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self.server.add_generic_rpc_handlers(tuple(_Generic(h, self.interceptor) for h in handlers))

    def add_registered_method_handlers(self, service: str, handlers: Mapping[str, grpc.RpcMethodHandler]) -> None:
        self.server.add_registered_method_handlers(
            service, {name: adapt(self.interceptor, h, f"/{service}/{name}") for name, h in handlers.items()}
        )
