"""`passkeys serve` with PASSKEYS_WORKERS=2: both worker processes answer on one port, SIGTERM
stops them all, a killed worker is restarted, workers that keep dying stop the service, a
taken port is still a clear error."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from passkeys import workers
from passkeys.config import Settings


class Serve:
    """`passkeys serve` as a child process; its JSON log lines are collected as they come."""

    def __init__(self, cwd: Path, **env: str) -> None:
        # Its run folders (metrics) in the test's own folder, never in the machine's /tmp.
        (cwd / "tmp").mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "passkeys", "serve"],
            env={
                **os.environ,
                "PASSKEYS_WORKERS": "2",
                "PASSKEYS_GRPC_ADDR": "127.0.0.1:0",
                "PASSKEYS_DATABASE_URL": f"sqlite:///{cwd / 'passkeys.db'}",
                "PASSKEYS_ADMIN_PAT_PATH": str(cwd / "admin.pat"),
                "TMPDIR": str(cwd / "tmp"),
                **env,
            },
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.cwd = cwd
        self.queue: queue.Queue[str] = queue.Queue()
        self.logs: list[dict[str, Any]] = []
        self.raw: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.queue.put(line)

    def _drain(self, timeout: float) -> None:
        try:
            line = self.queue.get(timeout=timeout)
        except queue.Empty:
            return
        self.raw.append(line)
        with contextlib.suppress(ValueError):
            self.logs.append(json.loads(line))

    def wait_for(self, msg: str, count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [entry for entry in self.logs if entry.get("msg") == msg]
            if len(found) >= count:
                return found
            self._drain(0.1)
        raise AssertionError(f"{count} x {msg!r} not seen in:\n{''.join(self.raw)}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state


def add_users(port: int, token: str, calls: int) -> None:
    """Each call on its own channel, so a new connection the kernel gives to either worker."""
    for i in range(calls):
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            stub = pb_grpc.UserServiceStub(channel)
            request = pb.AddHumanUserRequest(
                profile={"given_name": "Ada", "family_name": "Lovelace"},
                email={"email": f"ada{i}-{secrets.token_hex(4)}@example.com"},
            )
            reply = stub.AddHumanUser(request, metadata=[("authorization", f"Bearer {token}")], timeout=10)
            assert reply.user_id


def test_two_workers_answer_on_one_port_and_sigterm_stops_all(tmp_path: Path) -> None:
    serve = Serve(tmp_path)
    try:
        (ready,) = serve.wait_for("serving")
        workers = {entry["pid"] for entry in serve.wait_for("worker serving", count=2)}
        assert len(workers) == 2 and ready["pid"] not in workers
        port = int(ready["grpc_addr"].rpartition(":")[2])
        token = (tmp_path / "admin.pat").read_text().strip()
        add_users(port, token, calls=40)
        calls = serve.wait_for("call", count=40)
        assert all(c["code"] == "OK" for c in calls)
        assert {c["pid"] for c in calls} == workers  # both served, and no one else did
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.proc.wait(30) == 0
        deadline = time.monotonic() + 10
        while not all(gone(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(gone(pid) for pid in workers)
    finally:
        serve.stop()


def test_a_killed_worker_is_reported_and_restarted(tmp_path: Path) -> None:
    serve = Serve(tmp_path)
    try:
        (ready,) = serve.wait_for("serving")
        before = {entry["pid"] for entry in serve.wait_for("worker serving", count=2)}
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        (died,) = serve.wait_for("worker died")
        assert died["worker_pid"] == victim and died["exit_code"] == -signal.SIGKILL
        (restarted,) = serve.wait_for("worker restarted")
        assert restarted["worker_pid"] not in before
        assert serve.wait_for("worker serving", count=3)[-1]["pid"] == restarted["worker_pid"]
        assert serve.proc.poll() is None
        port = int(ready["grpc_addr"].rpartition(":")[2])
        add_users(port, (tmp_path / "admin.pat").read_text().strip(), calls=30)
        served = {c["pid"] for c in serve.wait_for("call", count=30)}
        assert served == (before - {victim}) | {restarted["worker_pid"]}
    finally:
        serve.stop()


def test_a_taken_port_is_a_clear_error_and_the_admin_token_is_written_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = Serve(tmp_path, PASSKEYS_GRPC_ADDR=f"127.0.0.1:{port}")
        try:
            assert serve.proc.wait(30) == 1
            time.sleep(0.2)
            while not serve.queue.empty():
                serve._drain(0)
            assert f"cannot listen on 127.0.0.1:{port}" in "".join(serve.raw)
        finally:
            serve.stop()
    first = (tmp_path / "admin.pat").read_text()
    serve = Serve(tmp_path)
    try:
        serve.wait_for("worker serving", count=2)
        assert (tmp_path / "admin.pat").read_text() == first
    finally:
        serve.stop()


def test_workers_that_keep_dying_stop_the_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # At most one death within the window (instead of 5), so that the test kills only twice.
    monkeypatch.setattr(workers, "RESTART_LIMIT", 1)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'passkeys.db'}",
        grpc_addr="127.0.0.1:0",
        admin_pat_path=str(tmp_path / "admin.pat"),
        workers=2,
        metrics_addr="127.0.0.1:0",
        log_level="WARNING",
    )
    service = workers.start(settings)
    try:
        assert isinstance(service, workers.WorkerPool) and len(set(service.pids)) == 2
        first = service.pids[0]
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while service.workers[0].exitcode is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.poll() is None  # the first death: replaced
        assert service.pids[0] != first and service.workers[0].exitcode is None
        os.kill(service.pids[0], signal.SIGKILL)
        while service.workers[0].exitcode is None and time.monotonic() < deadline + 10:
            time.sleep(0.05)
        failure = service.poll()
        assert failure is not None and "died within" in failure
    finally:
        service.stop()
    assert all(p.exitcode is not None for p in service.workers)
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # only the workers had it


def test_the_parent_waits_as_long_as_the_server_grace_and_loads_no_grpc() -> None:
    from passkeys import server

    assert workers.GRACE_S == server.SHUTDOWN_GRACE_S
    probe = "import sys, passkeys.cli, passkeys.workers, passkeys.gateway; print('grpc' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "False\n"


def test_the_parent_serves_the_metrics_of_every_worker(tmp_path: Path) -> None:
    from tests.support.scrape import scrape

    serve = Serve(tmp_path, PASSKEYS_METRICS_ADDR="127.0.0.1:0")
    try:
        (ready,) = serve.wait_for("serving")
        workers_seen = {entry["pid"] for entry in serve.wait_for("worker serving", count=2)}
        metrics_port = int(ready["metrics_addr"].rpartition(":")[2])
        port = int(ready["grpc_addr"].rpartition(":")[2])
        add_users(port, (tmp_path / "admin.pat").read_text().strip(), calls=30)
        calls = serve.wait_for("call", count=30)
        assert {c["pid"] for c in calls} == workers_seen  # so the sum below spans both
        samples = scrape(metrics_port)
        method = "/zitadel.user.v2.UserService/AddHumanUser"
        key = ("passkeys_grpc_calls_total", frozenset({("method", method), ("code", "OK")}))
        assert samples[key] == 30
        count = ("passkeys_grpc_call_duration_seconds_count", frozenset({("method", method)}))
        assert samples[count] == 30
    finally:
        serve.stop()


def test_the_metrics_folder_goes_at_stop_and_a_killed_runs_at_the_next_start(tmp_path: Path) -> None:
    folders = tmp_path / "tmp"
    serve = Serve(tmp_path, PASSKEYS_METRICS_ADDR="127.0.0.1:0")
    try:
        serve.wait_for("serving")
        assert len(list(folders.glob("passkeys-metrics-*"))) == 1
    finally:
        serve.stop()  # SIGKILL: the folder stays
    (killed,) = folders.glob("passkeys-metrics-*")
    serve = Serve(tmp_path, PASSKEYS_METRICS_ADDR="127.0.0.1:0")
    try:
        serve.wait_for("serving")
        assert not killed.exists()  # the killed run's, removed at this start (its lock was free)
        (live,) = folders.glob("passkeys-metrics-*")
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.proc.wait(30) == 0
    finally:
        serve.stop()
    assert not live.exists()


def test_a_serving_process_loads_no_rarely_used_library_at_start() -> None:
    """tldextract (and requests, which it loads) only for the first request naming a parent
    domain as RP ID; Alembic (with Mako and Pygments) only where migrations run: not in the
    memory of every worker."""
    probe = (
        "import sys, passkeys.server, passkeys.workers\n"
        "from passkeys.registration.options import choose_rp_id\n"
        "rare = ('tldextract', 'requests', 'alembic', 'mako', 'pygments')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in rare))\n"
        "print(choose_rp_id('login.example.com', 'example.com'), 'tldextract' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out == "[]\nexample.com True\n"


def test_a_worker_migrates_in_a_child_process_and_loads_no_alembic(tmp_path: Path) -> None:
    """The first worker's migrations, first admin and outbox key are made by a forked child:
    the database is ready, the token written, and the worker itself never imported Alembic; an
    unreachable database is a message, not a traceback."""
    probe = (
        "import sys\n"
        "from passkeys import workers\n"
        "from passkeys.config import Settings\n"
        f"ok = Settings(database_url='sqlite:///{tmp_path}/passkeys.db', admin_pat_path='{tmp_path}/admin.pat')\n"
        "down = Settings(database_url='postgresql+psycopg://nobody@127.0.0.1:1/none')\n"
        "print(workers._prepare_in_child(ok), 'alembic' in sys.modules)\n"
        "print(workers._prepare_in_child(down)[:17])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout == "None False\nconnection failed\n", out.stderr
    assert (tmp_path / "admin.pat").read_text().strip()
    with sqlite3.connect(tmp_path / "passkeys.db") as direct:
        assert direct.execute("SELECT version_num FROM alembic_version").fetchone()
