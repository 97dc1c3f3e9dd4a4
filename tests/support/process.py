"""The service as a real subprocess (`python -m passkeys serve`), as an operator runs it: its
own environment, a free loopback port, stderr kept in a file (the JSON log), SIGKILL or SIGTERM
on demand, and restarts on the same database and admin token file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from tests.conftest import ORIGIN, RP_ID
from tests.support.servers import _Bearer

START_TIMEOUT_S = 30


class ServerProcess:
    """One `passkeys serve` at a time on `database_url`; `start()` again after `kill()`."""

    def __init__(self, database_url: str, workdir: Path, **env: str) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.pat_path = workdir / "admin.pat"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PASSKEYS_")},
            "PASSKEYS_DATABASE_URL": database_url,
            "PASSKEYS_GRPC_ADDR": "127.0.0.1:0",
            "PASSKEYS_ADMIN_PAT_PATH": str(self.pat_path),
            "PASSKEYS_METRICS_ADDR": "",
            # One process, so that SIGKILL is a crash of the whole service (test_workers.py
            # covers several).
            "PASSKEYS_WORKERS": "1",
            "PASSKEYS_RP_ID": RP_ID,
            "PASSKEYS_ORIGINS": ORIGIN,
            **env,
        }
        self.starts = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self.port = 0
        self.metrics_port = 0
        self.log_path = workdir / "server-0.log"

    def start(self) -> None:
        assert self.proc is None, "already running"
        self._close_channel()  # the last run's, kept open so clients of a killed server see errors
        self.starts += 1
        self.log_path = self.workdir / f"server-{self.starts}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "passkeys", "serve"],
                env=self.env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        serving = self._wait_for_serving_line()
        self.port = int(serving["grpc_addr"].rpartition(":")[2])
        if "metrics_addr" in serving:
            self.metrics_port = int(serving["metrics_addr"].rpartition(":")[2])
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        health = health_pb2_grpc.HealthStub(self.channel)
        status = health.Check(health_pb2.HealthCheckRequest(service="zitadel.user.v2.UserService"), timeout=5)
        assert status.status == health_pb2.HealthCheckResponse.SERVING

    def _wait_for_serving_line(self) -> dict[str, Any]:
        assert self.proc is not None
        until = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < until:
            for line in self.log_lines():
                if line.get("msg") == "serving":
                    return line
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"server not serving after {START_TIMEOUT_S} s: {self.log_path.read_text()[-3000:]}")

    def log_lines(self, path: Path | None = None) -> list[dict[str, Any]]:
        """Every line of a log as JSON (a line that is not JSON fails the test)."""
        text = (path or self.log_path).read_text()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def all_logs(self) -> str:
        return "".join(p.read_text() for p in sorted(self.workdir.glob("server-*.log")))

    @property
    def admin_token(self) -> str:
        return self.pat_path.read_text().strip()

    @property
    def stub(self) -> pb_grpc.UserServiceStub:
        return self.stub_for(self.admin_token)

    def stub_for(self, token: str | None) -> pb_grpc.UserServiceStub:
        assert self.channel is not None
        if token is None:
            return pb_grpc.UserServiceStub(self.channel)
        return pb_grpc.UserServiceStub(grpc.intercept_channel(self.channel, _Bearer(token)))

    def _close_channel(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> int:
        """SIGTERM (graceful); the exit status."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        self._close_channel()
        return code


@contextmanager
def server_process(database_url: str, workdir: Path, **env: str) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, workdir, **env)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            server.proc.kill()
            server.proc.wait()
            server._close_channel()
