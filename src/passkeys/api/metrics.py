"""Prometheus metrics of the gRPC calls, recorded by the interceptor, served on their own port.

One worker (PASSKEYS_WORKERS=1): the metrics live in this process's default registry and
workers.start() serves them in-process. Several worker processes: workers.start() sets
PROMETHEUS_MULTIPROC_DIR to a fresh empty directory *before* it spawns the workers
(prometheus_client reads it at import, in each worker) and serves the endpoint from the parent
with `start_metrics_http(addr, that_dir)`, which sums the workers' files; when a worker dies,
`mark_process_dead(pid, that_dir)` drops its live gauges (the metadata gauges are the max over
every worker's files; its counts stay counted).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess

from passkeys.api.metrics_http import MetricsServer
from passkeys.errors import DomainError, Reason, ServerFault

if TYPE_CHECKING:  # the parent of worker processes serves metrics but loads no gRPC
    import grpc

    from passkeys.registration.metadata import Metadata

VERIFY_METHOD = "/zitadel.user.v2.UserService/VerifyPasskeyRegistration"
SIGN_IN_METHOD = "/zitadel.session.v2.SessionService/SetSession"

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
# A sign counter that did not grow (a cloned authenticator?) is reason SIGN_COUNT_REGRESSED here.
SIGN_IN_FAILURES = Counter(
    "passkeys_sign_in_failures",
    "SetSession calls refused, by ErrorInfo reason and failed WebAuthn check",
    ["reason", "check"],
)
SIGN_COUNT_FLAGGED = Counter(
    "passkeys_sign_count_flagged",
    "Sign-ins accepted although the passkey's counter did not grow (PASSKEYS_SIGN_COUNT_POLICY=flag)",
)
SERVER_FAULTS = Counter(
    "passkeys_server_faults",
    "Calls that failed by the server's fault (resources exhausted, internal errors), not the client's",
    ["method", "reason"],
)
RAPID_RESET_CONNECTIONS = Counter(
    "passkeys_grpc_rapid_reset_connections",
    "gRPC connections closed for resetting HTTP/2 streams in a flood (api/rapid_reset.py)",
)
# The FIDO metadata in use (registration/metadata.py): alert when time() passes the next update.
METADATA_SERIAL = Gauge(
    "passkeys_attestation_metadata_serial", "Serial number (no) of the FIDO metadata in use", multiprocess_mode="max"
)
METADATA_NEXT_UPDATE = Gauge(
    "passkeys_attestation_metadata_next_update_timestamp_seconds",
    "nextUpdate of the FIDO metadata in use, as a Unix time (00:00 UTC of that day)",
    multiprocess_mode="max",
)


# The labelled children of CALLS and DURATION, by (method, code): `labels()` hashes and checks
# its arguments on every call (issue 17: ~1.5 % of a verify's CPU); the children are the same
# objects every time. Bounded: methods are the registered ones, codes gRPC's 17.
_CALL_CHILDREN: dict[tuple[str, grpc.StatusCode], tuple[Any, Any]] = {}


def record_call(method: str, code: grpc.StatusCode, seconds: float, error: DomainError | None) -> None:
    children = _CALL_CHILDREN.get((method, code))
    if children is None:
        children = _CALL_CHILDREN[(method, code)] = (
            CALLS.labels(method=method, code=code.name),
            DURATION.labels(method=method),
        )
    children[0].inc()
    children[1].observe(seconds)
    if isinstance(error, ServerFault) or (error is None and code.name == "INTERNAL"):
        SERVER_FAULTS.labels(method=method, reason=error.reason if error else Reason.INTERNAL).inc()
    elif method == VERIFY_METHOD and error is not None:
        VERIFICATION_FAILURES.labels(reason=error.reason, check=str(error.metadata.get("check", ""))).inc()
    elif method == SIGN_IN_METHOD and error is not None:
        SIGN_IN_FAILURES.labels(reason=error.reason, check=str(error.metadata.get("check", ""))).inc()


def record_attestation_metadata(metadata: Metadata) -> None:
    METADATA_SERIAL.set(metadata.serial)
    next_update = datetime.combine(metadata.next_update, time.min, tzinfo=UTC)
    METADATA_NEXT_UPDATE.set(next_update.timestamp())


def start_metrics_http(addr: str, multiprocess_dir: str | None = None) -> int:
    """Serve /metrics on `addr` (host:port, port 0 for any) in daemon threads (api/metrics_http.py:
    bounded threads, idle connections closed); the bound port.

    With `multiprocess_dir`, the sum of every worker process's metrics in that directory."""
    host, _, port = addr.rpartition(":")
    registry: CollectorRegistry = REGISTRY
    if multiprocess_dir is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_dir)
    return MetricsServer(host.strip("[]"), int(port), registry).port


def mark_process_dead(pid: int, multiprocess_dir: str) -> None:
    multiprocess.mark_process_dead(pid, multiprocess_dir)
