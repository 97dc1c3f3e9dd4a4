"""`PASSKEYS_WORKERS` server processes on one gRPC port, so that throughput scales with cores.

One worker serves in the starting process. More: the parent migrates and bootstraps once (the
admin token is written once), checks that the port is free, reserves it and resolves port 0
to one concrete port, then spawns the workers, each serving on that port with SO_REUSEPORT
(the kernel spreads connections over them). SIGTERM/SIGINT to the parent stops every worker
gracefully. A worker that dies is logged and restarted; if workers keep dying
(RESTART_LIMIT deaths within RESTART_WINDOW_S) or a new one cannot start, the whole service
stops with status 1 rather than serve on with fewer processes than configured.

Prometheus metrics (PASSKEYS_METRICS_ADDR) are served by the process that owns the service:
the single worker itself, or the parent, summing its workers' metrics (api/metrics.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from typing import Protocol

from passkeys import logs
from passkeys.api import metrics
from passkeys.config import Settings
from passkeys.prepare import prepare_database
from passkeys.store.db import Database

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 30
RESTART_LIMIT = 5
RESTART_WINDOW_S = 60.0
# server.SHUTDOWN_GRACE_S (a test checks they agree): not imported, so that the parent of the
# workers loads no gRPC or protobuf (about 9 MB less resident memory).
GRACE_S = 10
# A worker gets the server's grace period to finish its calls, and a little more to exit.
STOP_TIMEOUT_S = GRACE_S + 5


class WorkerError(RuntimeError):
    """A worker could not start, or workers keep dying."""


class Service(Protocol):
    port: int
    metrics_port: int | None

    def poll(self) -> str | None:
        """None while serving; why the service must stop otherwise."""

    def stop(self) -> None: ...


class InProcess:
    """One worker: the server runs in this process."""

    def __init__(self, settings: Settings) -> None:
        from passkeys import server

        self.running = server.start(settings)
        self.port = self.running.port
        self.metrics_port: int | None = None
        if settings.metrics_addr:
            try:
                self.metrics_port = metrics.start_metrics_http(settings.metrics_addr)
            except OSError as exc:
                self.running.stop()
                raise OSError(f"cannot serve metrics on {settings.metrics_addr}: {exc.strerror or exc}") from None

    def poll(self) -> str | None:
        return None

    def stop(self) -> None:
        self.running.stop()


def reserve_port(addr: str) -> tuple[socket.socket, int]:
    """Fails (OSError) when another process listens on `addr`; else a socket holding its port
    for our workers (SO_REUSEPORT, never listening) and the concrete port number."""
    host, _, port_text = addr.rpartition(":")
    host = host.strip("[]")
    family, _, _, _, sockaddr = socket.getaddrinfo(host, int(port_text), type=socket.SOCK_STREAM)[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR ignores connections of a previous run in TIME_WAIT, not a live listener;
        # no SO_REUSEPORT: a port taken by anyone is refused.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            raise OSError(f"cannot listen on {addr}: {exc.strerror}") from None
        port = probe.getsockname()[1]
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        holder.bind((*sockaddr[:1], port, *sockaddr[2:]))
    except OSError as exc:  # taken in the moment between the two binds
        holder.close()
        raise OSError(f"cannot listen on {addr}: {exc.strerror}") from None
    return holder, port


def _worker_main(settings: Settings, index: int, ready: EventType, parent_pid: int) -> None:
    from passkeys import server

    logs.setup(settings.log_level)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Ctrl-C reaches the whole process group: the parent decides and sends SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    running = server.start(settings, Database(settings.database_url), reuse_port=True)
    log.info("worker serving", extra={"worker": index, "grpc_addr": settings.grpc_addr})
    ready.set()
    # An orphaned worker (the parent was killed) stops too.
    while not stop.wait(1.0) and os.getppid() == parent_pid:
        pass
    running.stop()


@contextmanager
def _metrics_files(folder: str | None) -> Iterator[None]:
    """PROMETHEUS_MULTIPROC_DIR for a worker being spawned (it copies this environment and
    prometheus_client reads the variable at import): its metrics go to files in `folder`,
    which the parent's endpoint sums. Set only meanwhile: this process must not inherit it."""
    if folder is None:
        yield
        return
    before = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    try:
        yield
    finally:
        if before is None:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        else:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = before


class WorkerPool:
    def __init__(self, settings: Settings) -> None:
        self._holder, self.port = reserve_port(settings.grpc_addr)
        host = settings.grpc_addr.rpartition(":")[0]
        self.settings = replace(settings, grpc_addr=f"{host}:{self.port}")
        self._context = multiprocessing.get_context("spawn")
        self._deaths: deque[float] = deque()
        self.workers: list[BaseProcess] = []
        self.metrics_port: int | None = None
        self._metrics_dir: str | None = None
        try:
            if settings.metrics_addr:
                self._serve_metrics(settings.metrics_addr)
            for index in range(settings.workers):
                self.workers.append(self._spawn(index))
        except BaseException:
            self.stop()
            raise

    def _serve_metrics(self, addr: str) -> None:
        self._metrics_dir = tempfile.mkdtemp(prefix="passkeys-metrics-")
        try:
            self.metrics_port = metrics.start_metrics_http(addr, self._metrics_dir)
        except OSError as exc:
            raise OSError(f"cannot serve metrics on {addr}: {exc.strerror or exc}") from None

    def _spawn(self, index: int) -> BaseProcess:
        ready = self._context.Event()
        process = self._context.Process(
            target=_worker_main,
            args=(self.settings, index, ready, os.getpid()),
            name=f"passkeys-worker-{index}",
        )
        with _metrics_files(self._metrics_dir):
            process.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.wait(0.05):
            if process.exitcode is not None or time.monotonic() > deadline:
                process.kill()
                process.join()
                raise WorkerError(f"worker {index} did not start (exit code {process.exitcode})")
        return process

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.workers if p.pid is not None]

    def poll(self) -> str | None:
        for index, process in enumerate(self.workers):
            if process.exitcode is None:
                continue
            log.error("worker died", extra={"worker": index, "worker_pid": process.pid, "exit_code": process.exitcode})
            if self._metrics_dir is not None and process.pid is not None:
                metrics.mark_process_dead(process.pid, self._metrics_dir)
            now = time.monotonic()
            self._deaths.append(now)
            while self._deaths and self._deaths[0] < now - RESTART_WINDOW_S:
                self._deaths.popleft()
            if len(self._deaths) > RESTART_LIMIT:
                return f"{len(self._deaths)} workers died within {RESTART_WINDOW_S:.0f}s"
            try:
                self.workers[index] = self._spawn(index)
            except WorkerError as exc:
                return str(exc)
            log.info("worker restarted", extra={"worker": index, "worker_pid": self.workers[index].pid})
        return None

    def stop(self) -> None:
        for process in self.workers:
            if process.exitcode is None:
                process.terminate()  # SIGTERM: a graceful stop
        for process in self.workers:
            process.join(STOP_TIMEOUT_S)
            if process.exitcode is None:
                process.kill()
                process.join()
        self._holder.close()
        if self._metrics_dir is not None:
            shutil.rmtree(self._metrics_dir, ignore_errors=True)


def start(settings: Settings) -> Service:
    if settings.workers == 1:
        return InProcess(settings)
    prepare_database(settings).dispose()
    return WorkerPool(settings)


def metrics_at(settings: Settings, service: Service) -> dict[str, str]:
    """Where /metrics answers, for the `serving` log line (nothing when metrics are off)."""
    if service.metrics_port is None:
        return {}
    return {"metrics_addr": f"{settings.metrics_addr.rpartition(':')[0]}:{service.metrics_port}"}


def serve(settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT (status 0), or until the workers cannot go on (status 1)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service = start(settings)
    host = settings.grpc_addr.rpartition(":")[0]
    log.info(
        "serving",
        extra={
            "grpc_addr": f"{host}:{service.port}",
            **metrics_at(settings, service),
            "rp_id": settings.rp_id,
            "workers": settings.workers,
        },
    )
    code = 0
    while not stop.wait(0.2):
        if (failure := service.poll()) is not None:
            log.error("stopping: workers cannot go on", extra={"why": failure})
            code = 1
            break
    log.info("shutting down", extra={"grace_s": GRACE_S})
    service.stop()
    return code
