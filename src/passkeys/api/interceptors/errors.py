"""Domain errors become their status (api/errors.py, the one table); anything else is an
INTERNAL whose traceback is logged and whose text never reaches the client."""

from __future__ import annotations

import logging
from typing import Any

import grpc

from passkeys.api import errors as api_errors
from passkeys.api.interceptors.chain import Call, Proceed
from passkeys.errors import DomainError, Reason

log = logging.getLogger("passkeys.access")


class ErrorsToStatus:
    def intercept(self, proceed: Proceed, request: Any, context: grpc.ServicerContext, call: Call) -> Any:
        try:
            return proceed(request, context, call)
        except DomainError as exc:
            call.code, call.reason, call.error = api_errors.code_of(exc), exc.reason, exc
            context.abort_with_status(api_errors.to_status(exc))
        except Exception:
            if context.code() is not None:  # an abort from inside: already a status
                call.code = context.code()
                raise
            call.code, call.reason = grpc.StatusCode.INTERNAL, Reason.INTERNAL
            log.exception("unhandled error", extra={"method": call.method})
            context.abort_with_status(api_errors.internal_status())
