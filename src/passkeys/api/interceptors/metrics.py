"""Each call counted and timed by method, code and reason (api/metrics.py)."""

from __future__ import annotations

import time
from typing import Any

import grpc

from passkeys.api import metrics
from passkeys.api.interceptors.chain import Call, Proceed


class Metrics:
    def intercept(self, proceed: Proceed, request: Any, context: grpc.ServicerContext, call: Call) -> Any:
        try:
            return proceed(request, context, call)
        finally:
            metrics.record_call(call.method, call.code, time.perf_counter() - call.start, call.error)
