"""The processes of a benchmark run: our service, the peers of bench/peers, the load generator
and the floor, each optionally pinned to one core (taskset), and the sampler that reads the
servers' memory and CPU time from /proc."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import ORIGIN, RP_ID

TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / "peers"
NODE_PEER = PEERS / "node" / "server.mjs"
READY = re.compile(r"gRPC on (\S+); REST and grpc-web on http://(\S+) ")
PEER_READY = re.compile(r"listening on (\S+)")


def cores() -> tuple[int, int]:
    """(the servers' core, the load generator's core): the first and the last usable one."""
    usable = sorted(os.sched_getaffinity(0))
    return usable[0], usable[-1]


def pinned(command: list[str], core: int | None) -> list[str]:
    return command if core is None else ["taskset", "--cpu-list", str(core), *command]


def worker_pids(root: int) -> list[int]:
    """The gRPC worker processes of `passkeys run` (pid `root`), which only supervises: even its
    one worker is a child process (`python -c ... child_main(...)`, workers.py)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        # spawn_main: a tree from before workers were `python -c` children (bench/ab.py compares them).
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == root and (
            b"child_main" in command or b"spawn_main" in command
        ):
            found.append(int(entry))
    return sorted(found)


@dataclass
class Sampler:
    """Every 50 ms: resident memory of a process and its descendants (Envoy left out), and the
    CPU time used so far by them and by Envoy."""

    root: int
    # (time, server RSS KiB, server CPU s, Envoy CPU s)
    samples: list[tuple[float, int, float, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def measure(self) -> tuple[int, float, float]:
        children: dict[int, list[int]] = {}
        stats: dict[int, tuple[str, float]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            stats[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / TICKS)
        rss, server_cpu, envoy_cpu, todo = 0, 0.0, 0.0, [self.root]
        while todo:
            pid = todo.pop()
            todo.extend(children.get(pid, []))
            name, cpu = stats.get(pid, ("", 0.0))
            if name.startswith("envoy"):
                envoy_cpu += cpu
                continue
            server_cpu += cpu
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            found = re.search(r"VmRSS:\s+(\d+) kB", status)
            rss += int(found.group(1)) if found else 0
        return rss, server_cpu, envoy_cpu

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.samples.append((time.time(), *self.measure()))

    def start(self) -> Sampler:
        threading.Thread(target=self.run, daemon=True).start()
        return self

    def peak_mib(self, start: float = 0.0, end: float = float("inf")) -> float:
        inside = [s[1] for s in self.samples if start <= s[0] <= end]
        return round(max(inside, default=0) / 1024, 1)

    def cpu_s(self, start: float, end: float) -> tuple[float, float]:
        """CPU seconds of the server and of Envoy between two times: the rate between the first
        and the last sample inside the window, times the window's length (the samples span up to
        100 ms less than the window)."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return 0.0, 0.0
        scale = (end - start) / (inside[-1][0] - inside[0][0])
        return (inside[-1][2] - inside[0][2]) * scale, (inside[-1][3] - inside[0][3]) * scale


def _started(proc: subprocess.Popen[bytes], log: Path, ready: re.Pattern[str], what: str) -> re.Match[str]:
    deadline = time.monotonic() + 60
    while not (found := ready.search(log.read_text(errors="replace"))):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)
    return found


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def service(
    database_url: str, workers: int, tmp: Path, core: int | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str, str, str]]:
    """`passkeys run` on loopback ports: (process, gRPC address, HTTP address, admin token)."""
    log = tmp / f"server-{workers}.log"
    env = {
        **os.environ,
        "PASSKEYS_DATABASE_URL": database_url,
        "PASSKEYS_WORKERS": str(workers),
        "PASSKEYS_GRPC_ADDR": "127.0.0.1:0",
        "PASSKEYS_HTTP_ADDR": "127.0.0.1:0",
        # Metrics recorded and served, as in production, on a port of its own.
        "PASSKEYS_METRICS_ADDR": "127.0.0.1:0",
        "PASSKEYS_ADMIN_PAT_PATH": str(tmp / "admin.pat"),
        "PASSKEYS_RP_ID": RP_ID,
        "PASSKEYS_ORIGINS": ORIGIN,
    }
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            pinned([sys.executable, "-m", "passkeys", "run"], core), env=env, stderr=sink, stdout=sink
        )
    try:
        found = _started(proc, log, READY, "passkeys run")
        yield proc, found.group(1), found.group(2), (tmp / "admin.pat").read_text().strip()
    finally:
        _stop(proc)


PEER_KINDS = ("node", "python")


@contextmanager
def peer(kind: str, tmp: Path, core: int | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    """One minimal endpoint of bench/peers on a fresh SQLite file: (process, HTTP address, token)."""
    if kind == "node":
        if not (PEERS / "node" / "node_modules").is_dir():
            raise RuntimeError("the Node peer is not installed: run `make bench-peers` (npm ci in bench/peers/node)")
        command = ["node", str(NODE_PEER)]
    else:
        command = [sys.executable, "-m", "bench.peers.starlette_peer"]
    token = os.urandom(16).hex()
    log = tmp / f"peer-{kind}.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PEER_DATABASE": str(tmp / f"peer-{kind}.db"),
        "PEER_TOKEN": token,
        "PEER_RP_ID": RP_ID,
        "PEER_ORIGIN": ORIGIN,
    }
    with log.open("wb") as sink:
        proc = subprocess.Popen(pinned(command, core), env=env, stdout=sink, stderr=sink, cwd=ROOT)
    try:
        yield proc, _started(proc, log, PEER_READY, f"the {kind} peer").group(1), token
    finally:
        _stop(proc)


def run_load(plan: dict[str, Any], core: int | None = None, what: str = "") -> list[dict[str, Any]]:
    """bench/load.py as its own process on the plan: one result per cell."""
    load = subprocess.run(
        pinned([sys.executable, "-m", "bench.load"], core),
        input=json.dumps(plan) + "\n",
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if load.returncode != 0:
        raise RuntimeError(f"load generator failed ({what}):\n{load.stderr[-3000:]}")
    return [json.loads(line) for line in load.stdout.splitlines() if line.strip()]


def with_server_cpu(results: list[dict[str, Any]], sampler: Sampler) -> list[dict[str, Any]]:
    """Each cell's peak memory and the server's (and Envoy's) CPU ms per successful call; the
    server's from the load generator's exact reading where the plan asked for one."""
    for r in results:
        r["peak_rss_mib"] = sampler.peak_mib(*r["window"])
        server_cpu, envoy_cpu = sampler.cpu_s(*r["window"])
        server_cpu = r.get("server_cpu_s", server_cpu)
        r["server_cpu_ms"] = round(server_cpu * 1000 / max(1, r["ok"]), 3)
        r["envoy_cpu_ms"] = round(envoy_cpu * 1000 / max(1, r["ok"]), 3)
    return results


def bench_module(module: str, *args: str, core: int | None = None) -> str:
    """`python -m bench.<module> args...` (pinned to the core), its standard output."""
    return subprocess.run(
        pinned([sys.executable, "-m", f"bench.{module}", *args], core),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout


def floor(
    seconds: float, attestations: tuple[str, ...] = ("none", "packed"), core: int | None = None
) -> dict[str, Any]:
    """bench/floor.py: {attestation: {"rate", "cpu_ms"}}."""
    return json.loads(bench_module("floor", str(seconds), *attestations, core=core))
