"""`passkeys run` killed with SIGKILL, during start-up and while serving, with 2 workers: within
3 s no process of ours is left and both ports are free, and the next start on the same ports
serves. Its supervising process loads none of the serving libraries, and the run folders of
killed runs are removed by the next start."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.run import Run

ROUNDS = int(os.environ.get("PASSKEYS_TEST_KILL_ROUNDS", "20"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ours(marker: str) -> list[int]:
    """Live processes (not zombies) whose environment carries `marker`: the run and its children."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() not in (entry / "environ").read_bytes():
                continue
            if "\nState:\tZ" in (entry / "status").read_text():
                continue
        except OSError:
            continue
        found.append(int(entry.name))
    return found


def port_free(port: int) -> bool:
    with socket.socket() as s:
        # Connections of the killed run in TIME_WAIT do not count; a live listener does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_kill_9_during_start_up_and_while_serving_leaves_nothing_behind(tmp_path: Path) -> None:
    grpc_port, http_port = free_port(), free_port()
    marker = f"passkeys-kill-test-{os.getpid()}-{time.monotonic_ns()}"
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSKEYS_")}
    env |= {
        "PASSKEYS_WORKERS": "2",
        "PASSKEYS_GRPC_ADDR": f"127.0.0.1:{grpc_port}",
        "PASSKEYS_HTTP_ADDR": f"127.0.0.1:{http_port}",
        "PASSKEYS_METRICS_ADDR": "127.0.0.1:0",
        "PASSKEYS_TEST_MARKER": marker,
        "TMPDIR": str(temp),
    }
    rng = random.Random(11)
    cleanup_s = []
    for round_ in range(ROUNDS):
        run = Run(tmp_path, env, environ={})
        if round_ % 2:
            http_at = run.ready()
            assert httpx.get(f"http://{http_at}/").status_code == 200
        else:  # anywhere in start-up: before or while the workers migrate, spawn, Envoy starts
            time.sleep(rng.uniform(0.0, 2.5))
        run.proc.kill()
        run.proc.wait()
        killed = time.monotonic()
        while (ours(marker) or not port_free(grpc_port) or not port_free(http_port)) and time.monotonic() < killed + 3:
            time.sleep(0.05)
        left = ours(marker)
        assert not left, f"round {round_}: still alive after 3 s: {left}"
        assert port_free(grpc_port) and port_free(http_port), f"round {round_}: a port is still taken"
        cleanup_s.append(time.monotonic() - killed)
    print(f"{ROUNDS} kill -9 rounds; nothing left after at most {max(cleanup_s, default=0):.2f}s")

    run = Run(tmp_path, env, environ={})
    http_at = run.ready()
    token = (tmp_path / "data" / "admin.pat").read_text().strip()
    answer = httpx.post(
        f"http://{http_at}/v2/users/x/passkeys/_search", json={}, headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 404 and answer.json()["code"] == 5
    run.proc.send_signal(signal.SIGINT)
    assert run.proc.wait(30) == 0
    # The killed runs' folders went at this start, its own at its stop.
    assert not list(temp.glob("passkeys-*"))


def test_the_supervising_process_loads_no_serving_library() -> None:
    """What `passkeys run` imports before it spawns: no gRPC, protobuf, SQLAlchemy or webauthn
    (the workers load them; the first one migrates the database)."""
    # `passkeys run`'s own path through cli.main, up to where the workers would be spawned.
    probe = (
        "import sys\n"
        "from passkeys import cli, gateway, workers, envoy_config\n"
        "def run(settings):\n"
        "    A = envoy_config.Address\n"
        "    envoy_config.render(listen=A('127.0.0.1', 0), upstream=A('127.0.0.1', 1),"
        " origins=settings.origins)\n"
        "    heavy = ('grpc', 'google', 'sqlalchemy', 'alembic', 'webauthn', 'cryptography')\n"
        "    print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        "    return 0\n"
        "gateway.run = run\n"
        "sys.exit(cli.main(['run']))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"
