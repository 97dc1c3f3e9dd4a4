"""The metrics endpoint for several worker processes (PASSKEYS_WORKERS): each worker records
into PROMETHEUS_MULTIPROC_DIR, and `start_metrics_http(addr, dir)` serves their sum. Real
processes, since prometheus_client picks its storage when first imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

WORKER = """
import grpc
from passkeys.api import metrics
from passkeys.errors import InvalidArgument
for _ in range({n}):
    metrics.record_call("/m", grpc.StatusCode.OK, 0.01, None)
metrics.record_call(metrics.VERIFY_METHOD, grpc.StatusCode.INVALID_ARGUMENT, 0.02,
                    InvalidArgument("CREDENTIAL_REJECTED", "x", check="origin"))
"""

SUPERVISOR = """
import sys, time
from passkeys.api import metrics
print(metrics.start_metrics_http("127.0.0.1:0", sys.argv[1]), flush=True)
time.sleep(60)
"""


def run_python(code: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
    )


def test_the_endpoint_sums_every_worker(tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (2, 3):
        assert run_python(WORKER.format(n=n), env).wait(30) == 0
    supervisor = run_python(SUPERVISOR, env, str(tmp_path))
    try:
        assert supervisor.stdout is not None
        port = int(supervisor.stdout.readline())
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        supervisor.kill()
        supervisor.wait()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }
    assert samples[("passkeys_grpc_calls_total", frozenset({("method", "/m"), ("code", "OK")}))] == 5
    failures = frozenset({("reason", "CREDENTIAL_REJECTED"), ("check", "origin")})
    assert samples[("passkeys_verification_failures_total", failures)] == 2
    count = ("passkeys_grpc_call_duration_seconds_count", frozenset({("method", "/m")}))
    assert samples[count] == 5
