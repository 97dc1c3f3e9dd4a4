"""The one place where domain errors become gRPC status, with a google.rpc.ErrorInfo
(reason, domain, metadata naming what failed) and ZITADEL's zitadel.v1.ErrorDetail (a stable id
per reason, the message; api/error_details.py) in the details of every error."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from passkeys import errors
from passkeys.api.error_details import error_detail

ERROR_DOMAIN = "passkeys"
# Messages may quote the request (a rejected origin, a user id): bounded, because status and
# details travel as headers and gRPC clients refuse headers over 8-16 KiB.
MAX_MESSAGE, MAX_METADATA_VALUE = 500, 200

CODES: dict[type[errors.DomainError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.ServerOverloaded: grpc.StatusCode.UNAVAILABLE,
    errors.ServerFault: grpc.StatusCode.INTERNAL,
}


def code_of(error: errors.DomainError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in CODES:
            return CODES[cls]  # type: ignore[index]
    return grpc.StatusCode.INTERNAL


def status_of(code: grpc.StatusCode, message: str, reason: str, metadata: dict[str, str]) -> grpc.Status:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN, metadata=metadata))
    details = [detail, error_detail(reason, message)]  # ErrorInfo first, as before ErrorDetail came
    return rpc_status.to_status(status_pb2.Status(code=code.value[0], message=message, details=details))


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_status(error: errors.DomainError) -> grpc.Status:
    metadata = {k: _bounded(str(v), MAX_METADATA_VALUE) for k, v in error.metadata.items()}
    return status_of(code_of(error), _bounded(error.message, MAX_MESSAGE), error.reason, metadata)


def internal_status() -> grpc.Status:
    # Never the exception text: it may hold request data; the log has the traceback.
    return status_of(grpc.StatusCode.INTERNAL, "internal error", errors.Reason.INTERNAL, {})
