"""`PASSKEYS_WORKERS` server processes on one gRPC port, so that throughput scales with cores.

`passkeys serve` with one worker serves in the starting process. Otherwise (and always under
`passkeys run`) the starting process only supervises: it loads no gRPC, protobuf, SQLAlchemy or
webauthn. It checks that the port is free, reserves it and resolves port 0 to one concrete port,
and spawns the workers, each serving on that port with SO_REUSEPORT (the kernel spreads
connections over them). The first worker migrates and bootstraps the database (the admin token is
written once) before the port is reserved and before the others start. SIGTERM/SIGINT to the
parent stops every worker gracefully. A worker that dies is logged and restarted; if workers keep
dying (RESTART_LIMIT deaths within RESTART_WINDOW_S) or a new one cannot start, the whole service
stops with status 1 rather than serve on with fewer processes than configured.

No worker outlives its parent, however the parent dies: each sets PR_SET_PDEATHSIG first thing
(lifeline.py) and watches its pipe to the parent, which only the parent's death closes. A worker
talks to its parent over that pipe during start-up ("prepared", then its address, then "ready"),
and the parent waits with a timeout, watching the worker and its own stop request.

Workers are plain `python -c` child processes (subprocess), their pipe one end of a socket pair
passed to them, with multiprocessing's message framing (Connection): multiprocessing's own spawn
would also start its resource tracker, a third Python process of ~13 MiB that the service never
needs (issue 17's memory bound).

Prometheus metrics (PASSKEYS_METRICS_ADDR) are served by the process that owns the service:
the single worker itself, or the parent, summing its workers' metrics (api/metrics.py) from a
run folder (runfolders.py) that is removed at exit, or at the next start after a kill -9.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from contextlib import suppress
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

from passkeys import lifeline, logs
from passkeys.api import metrics
from passkeys.config import Settings
from passkeys.runfolders import RunFolder

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 30
RESTART_LIMIT = 5
RESTART_WINDOW_S = 60.0
# server.SHUTDOWN_GRACE_S (a test checks they agree): not imported, so that the parent of the
# workers loads no gRPC or protobuf (about 9 MB less resident memory).
GRACE_S = 10
# A worker gets the server's grace period to finish its calls, and a little more to exit.
STOP_TIMEOUT_S = GRACE_S + 5
METRICS_PREFIX = "passkeys-metrics-"


class WorkerError(RuntimeError):
    """A worker could not start, or workers keep dying."""


class DatabaseUnreachable(WorkerError):
    """The first worker could not reach the database to migrate it (the message says why)."""


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


def _worker_main(settings: Settings, index: int, pipe: Connection, parent_pid: int, migrate: bool) -> None:
    lifeline.die_with_parent(parent_pid)
    # Ctrl-C reaches the whole process group: the parent decides and sends SIGTERM, which ends a
    # worker at once until it serves (nothing to finish yet), gracefully afterwards.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup(settings.log_level)
    from passkeys.store.db import Database

    # A failure to start is told to the parent, which says it once (no traceback per worker).
    if migrate and (unreachable := _prepare_in_child(settings)) is not None:
        pipe.send(("unreachable", unreachable))
        os._exit(1)
    db = Database(settings.database_url)
    pipe.send("prepared")
    from passkeys import server  # gRPC after the fork above: a forked gRPC is not safe

    try:
        grpc_addr = pipe.recv()  # the port the parent reserved once the database was ready
    except EOFError:
        os._exit(1)
    try:
        running = server.start(replace(settings, grpc_addr=grpc_addr), db, reuse_port=True)
    except OSError as exc:
        pipe.send(("failed", str(exc)))
        os._exit(1)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("worker serving", extra={"worker": index, "grpc_addr": grpc_addr})
    pipe.send("ready")

    def watch_parent() -> None:
        # The parent never writes again: the pipe ends (EOF) only when the parent is gone.
        with suppress(EOFError, OSError):
            pipe.recv()
        os._exit(1)

    threading.Thread(target=watch_parent, daemon=True, name="lifeline").start()
    stop.wait()
    running.stop()


# How the migrating child says that the database cannot be reached (its message on the pipe).
UNREACHABLE_EXIT = 3


def _prepare_in_child(settings: Settings) -> str | None:
    """prepare_database (migrations, the first admin, the outbox key) in a forked child that
    exits when done, so that Alembic and everything it loads (Mako, Pygments, every SQLAlchemy
    dialect: ~11 MiB) never stay in the serving worker's memory. None when done; the message
    when the database cannot be reached. Any other failure ends this worker (status 1), its
    traceback printed by the child. Forked before gRPC is imported, from the only thread."""
    worker = os.getpid()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(reader)
            lifeline.die_with_parent(worker)
            from sqlalchemy.exc import OperationalError

            from passkeys.prepare import prepare_database

            try:
                prepare_database(settings).dispose()
                code = 0
            except OperationalError as exc:
                os.write(writer, str(exc.orig or exc).strip().encode())
                code = UNREACHABLE_EXIT
        except BaseException:  # noqa: BLE001 - whatever failed, the child must not return into the worker
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as said:
        message = said.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == UNREACHABLE_EXIT:
        return message
    if code != 0:
        os._exit(1)
    return None


def child_main(fd: int, parent_pid: int) -> None:
    """A worker process's entry (`_command`): its arguments come first on the pipe `fd`."""
    pipe = Connection(fd)
    try:
        settings, index, migrate = pipe.recv()
    except EOFError:  # the parent is gone
        os._exit(1)
    _worker_main(settings, index, pipe, parent_pid, migrate)


def _command(fd: int) -> list[str]:
    """`python -c`: the death signal is set before anything else is imported, and the folder
    this package was imported from comes first on the worker's path (as multiprocessing's spawn
    gave it this process's path)."""
    root = str(Path(__file__).resolve().parent.parent)
    code = (
        f"import sys; sys.path.insert(0, {root!r}); from passkeys import lifeline; "
        f"lifeline.die_with_parent({os.getpid()}); "
        f"from passkeys.workers import child_main; child_main({fd}, {os.getpid()})"
    )
    # The interpreter's options (-B, -X, -W ...) too, as multiprocessing passes them.
    return [sys.executable, *subprocess._args_from_interpreter_flags(), "-c", code]  # type: ignore[attr-defined]


class Worker:
    """One worker process, with the parts of multiprocessing's Process that the pool uses."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self.pid: int | None = popen.pid

    @property
    def exitcode(self) -> int | None:
        """None while it runs; its exit status, or -N when signal N ended it."""
        return self._popen.poll()

    def terminate(self) -> None:
        with suppress(ProcessLookupError):
            self._popen.terminate()

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            self._popen.kill()

    def join(self, timeout: float | None = None) -> None:
        with suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout)


class WorkerPool:
    """Spawns the first worker (which migrates) at once; `wait_ready` completes the start."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._deaths: deque[float] = deque()
        self.workers: list[Worker] = []
        self._pipes: list[Connection] = []
        self._holder: socket.socket | None = None
        self.port = 0
        self.metrics_port: int | None = None
        self._metrics_dir: RunFolder | None = None
        try:
            if settings.metrics_addr:
                self._serve_metrics(settings.metrics_addr)
            self._spawn(0, migrate=True)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, stop: threading.Event | None = None) -> None:
        """Until every worker serves. WorkerError if one does not start in time, or on `stop`."""
        try:
            self._wait_for(0, "prepared", stop)
            self._holder, self.port = reserve_port(self.settings.grpc_addr)
            host = self.settings.grpc_addr.rpartition(":")[0]
            self.settings = replace(self.settings, grpc_addr=f"{host}:{self.port}")
            self._pipes[0].send(self.settings.grpc_addr)
            self._wait_for(0, "ready", stop)
            for index in range(1, self.settings.workers):
                self._start(index, stop)
        except BaseException:
            self.stop()
            raise

    def _serve_metrics(self, addr: str) -> None:
        self._metrics_dir = RunFolder(METRICS_PREFIX)
        try:
            self.metrics_port = metrics.start_metrics_http(addr, str(self._metrics_dir.path))
        except OSError as exc:
            raise OSError(f"cannot serve metrics on {addr}: {exc.strerror or exc}") from None

    def _spawn(self, index: int, *, migrate: bool = False) -> None:
        ours_socket, theirs = socket.socketpair()
        ours = Connection(ours_socket.detach())
        env = dict(os.environ)
        if self._metrics_dir is not None:
            # prometheus_client reads it at import, in the worker: its metrics go to files in
            # the folder, which the parent's endpoint sums. Not set in this process.
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self._metrics_dir.path)
        try:
            process = Worker(
                subprocess.Popen(
                    _command(theirs.fileno()), pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env
                )
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        with suppress(OSError):  # it died already: _wait_for sees it
            ours.send((self.settings, index, migrate))
        if index < len(self.workers):
            self._pipes[index].close()
            self.workers[index], self._pipes[index] = process, ours
        else:
            self.workers.append(process)
            self._pipes.append(ours)

    def _start(self, index: int, stop: threading.Event | None = None) -> None:
        self._spawn(index)
        self._wait_for(index, "prepared", stop)
        self._pipes[index].send(self.settings.grpc_addr)
        self._wait_for(index, "ready", stop)

    def _wait_for(self, index: int, message: str, stop: threading.Event | None) -> None:
        process, pipe = self.workers[index], self._pipes[index]
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not pipe.poll(0.05):
            if stop is not None and stop.is_set():
                raise WorkerError("stopped while starting")
            if process.exitcode is not None or time.monotonic() > deadline:
                process.kill()
                process.join()
                raise WorkerError(f"worker {index} did not start (exit code {process.exitcode})")
        try:
            got = pipe.recv()
        except EOFError:  # it died in the moment: the next poll of the pool sees it
            got = None
        if isinstance(got, tuple):
            process.join(STOP_TIMEOUT_S)
            kind, why = got
            raise (DatabaseUnreachable if kind == "unreachable" else WorkerError)(why)
        if got != message:
            process.kill()
            process.join()
            raise WorkerError(f"worker {index} did not start (exit code {process.exitcode})")

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.workers if p.pid is not None]

    def poll(self) -> str | None:
        for index, process in enumerate(self.workers):
            if process.exitcode is None:
                continue
            log.error("worker died", extra={"worker": index, "worker_pid": process.pid, "exit_code": process.exitcode})
            if self._metrics_dir is not None and process.pid is not None:
                metrics.mark_process_dead(process.pid, str(self._metrics_dir.path))
            now = time.monotonic()
            self._deaths.append(now)
            while self._deaths and self._deaths[0] < now - RESTART_WINDOW_S:
                self._deaths.popleft()
            if len(self._deaths) > RESTART_LIMIT:
                return f"{len(self._deaths)} workers died within {RESTART_WINDOW_S:.0f}s"
            try:
                self._start(index)
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
        for pipe in self._pipes:
            pipe.close()
        if self._holder is not None:
            self._holder.close()
        if self._metrics_dir is not None:
            self._metrics_dir.remove()


def start(settings: Settings) -> Service:
    """Serving when it returns: in this process with one worker, else a ready WorkerPool."""
    if settings.workers == 1:
        return InProcess(settings)
    pool = WorkerPool(settings)
    pool.wait_ready()
    return pool


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
