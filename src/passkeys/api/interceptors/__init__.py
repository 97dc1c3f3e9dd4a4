"""Around every unary call, one interceptor per concern, outermost first (the order of
`stack()`): one access log line (access_log.py), metrics of the call (metrics.py), domain errors
mapped to status and anything else an INTERNAL with its traceback logged (errors.py), request
bytes that are no protobuf refused as the client's fault (decoding.py), and the call's deadline
made known to the store (deadline.py). `Chain` stacks them into one grpc.ServerInterceptor."""

from __future__ import annotations

from passkeys.api.interceptors.access_log import AccessLog, logged_caller
from passkeys.api.interceptors.chain import Call, Chain, Interceptor
from passkeys.api.interceptors.deadline import Deadline
from passkeys.api.interceptors.decoding import RefuseUndecodable
from passkeys.api.interceptors.errors import ErrorsToStatus
from passkeys.api.interceptors.metrics import Metrics

__all__ = [
    "AccessLog",
    "Call",
    "Chain",
    "Deadline",
    "ErrorsToStatus",
    "Interceptor",
    "Metrics",
    "RefuseUndecodable",
    "logged_caller",
    "stack",
]


def stack() -> Chain:
    """The service's interceptors, in their order."""
    return Chain(AccessLog(), Metrics(), ErrorsToStatus(), RefuseUndecodable(), Deadline())
