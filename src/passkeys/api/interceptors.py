"""Around every unary call: request bytes that are no protobuf refused as the client's fault,
the call's deadline made known to the store (passkeys.deadline), domain errors mapped to status
(api/errors.py), anything else an INTERNAL with its traceback logged, one structured log line
per call, and its metrics (api/metrics.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from passkeys import deadline
from passkeys.api import errors as api_errors
from passkeys.api import metrics
from passkeys.errors import DomainError, InvalidArgument, Reason

log = logging.getLogger("passkeys.access")

# Who made the call, for the access log: "<kind>:<user id>" (a code caller by its code id),
# set by the servicer once authenticated; never a token or code.
logged_caller: ContextVar[str | None] = ContextVar("logged_caller", default=None)


# grpc reports "no deadline" as a remaining time of centuries.
_NO_DEADLINE_S = 10 * 365 * 24 * 3600


def _ids(*messages: Any) -> dict[str, str]:
    # Only identifiers: never the credential, code or token fields. The request's, else the
    # response's (AddHumanUser's new user_id, RegisterPasskey's new passkey_id).
    out: dict[str, str] = {}
    for message in messages:
        for name in ("user_id", "passkey_id"):
            value = getattr(message, name, None)
            if name not in out and isinstance(value, str) and value:
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
        Reason.MALFORMED_REQUEST, f"the request is not a valid protobuf message of this method's type ({request.error})"
    )


def _remaining(context: grpc.ServicerContext) -> float | None:
    left = context.time_remaining()
    return None if left is None or left > _NO_DEADLINE_S else left


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
            error: DomainError | None = None
            response = None
            try:
                if isinstance(request, _Undecodable):
                    raise _malformed(request)
                with deadline.bounded(_remaining(context)):
                    response = inner(request, context)
                    if deadline.expired():  # gRPC has told the client so; a read may end late
                        code = grpc.StatusCode.DEADLINE_EXCEEDED
                return response
            except DomainError as exc:
                code, reason, error = api_errors.code_of(exc), exc.reason, exc
                context.abort_with_status(api_errors.to_status(exc))
            except Exception:
                if context.code() is not None:  # an abort from inside: already a status
                    code = context.code()
                    raise
                code, reason = grpc.StatusCode.INTERNAL, Reason.INTERNAL
                log.exception("unhandled error", extra={"method": method})
                context.abort_with_status(api_errors.internal_status())
            finally:
                seconds = time.perf_counter() - start
                metrics.record_call(method, code, seconds, error)
                log.info(
                    "call",
                    extra={
                        "method": method,
                        "code": code.name,
                        **({"reason": reason} if reason else {}),
                        "latency_ms": round(seconds * 1000, 3),
                        **_ids(request, response),
                        **({"caller": who} if (who := logged_caller.get()) else {}),
                    },
                )

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
