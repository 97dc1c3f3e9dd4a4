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


_ID_FIELDS = ("user_id", "passkey_id")
# Message type -> which of _ID_FIELDS it has as string fields: looked up once per type (a
# getattr of a field a message lacks raises and catches an AttributeError every call).
_FIELDS_OF: dict[type, tuple[str, ...]] = {}


def _id_fields(message: Any) -> tuple[str, ...]:
    kind = type(message)
    names = _FIELDS_OF.get(kind)
    if names is None:
        fields = getattr(getattr(message, "DESCRIPTOR", None), "fields_by_name", {})
        names = _FIELDS_OF[kind] = tuple(
            n for n in _ID_FIELDS if n in fields and fields[n].type == fields[n].TYPE_STRING
        )
    return names


def _ids(*messages: Any) -> dict[str, str]:
    # Only identifiers: never the credential, code or token fields. The request's, else the
    # response's (AddHumanUser's new user_id, RegisterPasskey's new passkey_id).
    out: dict[str, str] = {}
    for message in messages:
        for name in _id_fields(message):
            value = getattr(message, name)
            if name not in out and value:
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
