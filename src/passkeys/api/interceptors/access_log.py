"""One structured log line per call: method, code, reason, latency, the ids it names, the caller."""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import Any

import grpc

from passkeys.api.interceptors.chain import Call, Proceed

log = logging.getLogger("passkeys.access")

# Who made the call, for the access log: "<kind>:<user id>" (a code caller by its code id),
# set by the servicer once authenticated; never a token or code.
logged_caller: ContextVar[str | None] = ContextVar("logged_caller", default=None)


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


class AccessLog:
    def intercept(self, proceed: Proceed, request: Any, context: grpc.ServicerContext, call: Call) -> Any:
        logged_caller.set(None)
        try:
            return proceed(request, context, call)
        finally:
            log.info(
                "call",
                extra={
                    "method": call.method,
                    "code": call.code.name,
                    **({"reason": call.reason} if call.reason else {}),
                    "latency_ms": round((time.perf_counter() - call.start) * 1000, 3),
                    **_ids(request, call.response),
                    **({"caller": who} if (who := logged_caller.get()) else {}),
                },
            )
