"""Request bytes that are no protobuf of the method's type: the client's fault, INVALID_ARGUMENT
(grpc itself answers a deserializer's exception with INTERNAL)."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.message import DecodeError

from passkeys.api.interceptors.chain import Call, Deserializer, Proceed
from passkeys.errors import InvalidArgument, Reason


class _Undecodable:
    """Stands in for a request whose bytes did not parse, so the call can refuse it."""

    def __init__(self, error: str) -> None:
        self.error = error


def _malformed(request: _Undecodable) -> InvalidArgument:
    # Never the parser's text: it may quote the request.
    return InvalidArgument(
        Reason.MALFORMED_REQUEST,
        f"the request is not a valid protobuf message of this method's type ({request.error})",
    )


class RefuseUndecodable:
    def deserializer(self, inner: Deserializer) -> Deserializer:
        # A corrupt message, or a Struct nested past protobuf's recursion limit.
        def parse(data: bytes) -> Any:
            try:
                return inner(data)
            except (DecodeError, RecursionError) as exc:
                return _Undecodable(type(exc).__name__)

        return parse

    def intercept(self, proceed: Proceed, request: Any, context: grpc.ServicerContext, call: Call) -> Any:
        if isinstance(request, _Undecodable):
            raise _malformed(request)
        return proceed(request, context, call)
