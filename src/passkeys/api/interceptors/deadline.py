"""The call's deadline made known to the store (passkeys.deadline), which bounds its waits by it
and rolls back a write that would commit after it."""

from __future__ import annotations

from typing import Any

import grpc

from passkeys import deadline
from passkeys.api.interceptors.chain import Call, Proceed

# grpc reports "no deadline" as a remaining time of centuries.
_NO_DEADLINE_S = 10 * 365 * 24 * 3600


def _remaining(context: grpc.ServicerContext) -> float | None:
    left = context.time_remaining()
    return None if left is None or left > _NO_DEADLINE_S else left


class Deadline:
    def intercept(self, proceed: Proceed, request: Any, context: grpc.ServicerContext, call: Call) -> Any:
        with deadline.bounded(_remaining(context)):
            response = proceed(request, context, call)
            if deadline.expired():  # gRPC has told the client so; a read may end late
                call.code = grpc.StatusCode.DEADLINE_EXCEEDED
            return response
