"""The sync interceptors, unchanged, on grpc.aio's server.

grpc.aio runs a handler that is no coroutine on its thread pool (`migration_thread_pool`), only
once the request's message has arrived: a stream that never sends it holds no thread. The
interceptors stay sync code wrapping sync handlers; AioAdapter calls one with the handler that
grpc.aio found and hands what it returns back, with a context that gives the wrapped code what
a sync server's context has and grpc.aio's sync-handler context lacks (abort_with_status, code).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


class AioAdapter(grpc.aio.ServerInterceptor):
    def __init__(self, interceptor: grpc.ServerInterceptor) -> None:
        self.interceptor = interceptor

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        wrapped = self.interceptor.intercept_service(lambda _: handler, details)
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
