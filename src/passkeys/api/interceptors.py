"""Around every unary call: request bytes that are no protobuf refused as the client's fault,
domain errors mapped to status (api/errors.py), anything else an INTERNAL with its traceback
logged, and one structured log line per call."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from passkeys.api import errors as api_errors
from passkeys.errors import DomainError, InvalidArgument

log = logging.getLogger("passkeys.access")

# Who made the call, for the access log: "<kind>:<user id>" (a code caller by its code id),
# set by the servicer once authenticated; never a token or code.
logged_caller: ContextVar[str | None] = ContextVar("logged_caller", default=None)


def _ids(request: Any) -> dict[str, str]:
    # Only identifiers: never the credential, code or token fields.
    out = {}
    for name in ("user_id", "passkey_id"):
        value = getattr(request, name, None)
        if isinstance(value, str) and value:
            out[name] = value[:200]
    return out


class _Undecodable:
    """Stands in for a request whose bytes did not parse, so the call can refuse it."""

    def __init__(self, error: str) -> None:
        self.error = error


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    # grpc answers a deserializer's exception with INTERNAL; a corrupt message (or a Struct
    # nested past protobuf's recursion limit) is the client's fault: INVALID_ARGUMENT.
    if deserializer is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserializer(data)
        except (DecodeError, RecursionError) as exc:
            return _Undecodable(type(exc).__name__)

    return parse


def _malformed(request: _Undecodable) -> InvalidArgument:
    # Never the parser's text: it may quote the request.
    return InvalidArgument(
        "MALFORMED_REQUEST", f"the request is not a valid protobuf message of this method's type ({request.error})"
    )


class ErrorsAndAccessLog(grpc.ServerInterceptor):
    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = details.method

        def call(request: Any, context: grpc.ServicerContext) -> Any:
            start = time.perf_counter()
            logged_caller.set(None)
            code = grpc.StatusCode.OK
            reason = ""
            try:
                if isinstance(request, _Undecodable):
                    raise _malformed(request)
                return inner(request, context)
            except DomainError as exc:
                code, reason = api_errors.code_of(exc), exc.reason
                context.abort_with_status(api_errors.to_status(exc))
            except Exception:
                if context.code() is not None:  # an abort from inside: already a status
                    code = context.code()
                    raise
                code, reason = grpc.StatusCode.INTERNAL, "INTERNAL"
                log.exception("unhandled error", extra={"method": method})
                context.abort_with_status(api_errors.internal_status())
            finally:
                log.info(
                    "call",
                    extra={
                        "method": method,
                        "code": code.name,
                        **({"reason": reason} if reason else {}),
                        "latency_ms": round((time.perf_counter() - start) * 1000, 3),
                        **_ids(request),
                        **({"caller": who} if (who := logged_caller.get()) else {}),
                    },
                )

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
