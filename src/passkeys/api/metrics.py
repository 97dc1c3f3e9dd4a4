"""Prometheus metrics of the gRPC calls, recorded by the interceptor, served on their own port.

One worker (PASSKEYS_WORKERS=1): the metrics live in this process's default registry and
workers.start() serves them in-process. Several worker processes: workers.start() sets
PROMETHEUS_MULTIPROC_DIR to a fresh empty directory *before* it spawns the workers
(prometheus_client reads it at import, in each worker) and serves the endpoint from the parent
with `start_metrics_http(addr, that_dir)`, which sums the workers' files; when a worker dies,
`mark_process_dead(pid, that_dir)` drops its gauges (none today; its counts stay counted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess, start_http_server

from passkeys.errors import DomainError

if TYPE_CHECKING:  # the parent of worker processes serves metrics but loads no gRPC
    import grpc

VERIFY_METHOD = "/zitadel.user.v2.UserService/VerifyPasskeyRegistration"

CALLS = Counter("passkeys_grpc_calls", "gRPC calls answered, by method and status code", ["method", "code"])
DURATION = Histogram(
    "passkeys_grpc_call_duration_seconds",
    "Time from receiving a gRPC call to its answer",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
VERIFICATION_FAILURES = Counter(
    "passkeys_verification_failures",
    "VerifyPasskeyRegistration calls refused, by ErrorInfo reason and failed WebAuthn check",
    ["reason", "check"],
)


def record_call(method: str, code: grpc.StatusCode, seconds: float, error: DomainError | None) -> None:
    CALLS.labels(method=method, code=code.name).inc()
    DURATION.labels(method=method).observe(seconds)
    if method == VERIFY_METHOD and error is not None:
        VERIFICATION_FAILURES.labels(reason=error.reason, check=str(error.metadata.get("check", ""))).inc()


def start_metrics_http(addr: str, multiprocess_dir: str | None = None) -> int:
    """Serve /metrics on `addr` (host:port, port 0 for any) in a daemon thread; the bound port.

    With `multiprocess_dir`, the sum of every worker process's metrics in that directory."""
    host, _, port = addr.rpartition(":")
    registry: CollectorRegistry = REGISTRY
    if multiprocess_dir is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_dir)
    httpd, _thread = start_http_server(int(port), addr=host.strip("[]"), registry=registry)
    return int(httpd.server_port)


def mark_process_dead(pid: int, multiprocess_dir: str) -> None:
    multiprocess.mark_process_dead(pid, multiprocess_dir)
