"""`make bench`: the whole table in one run, printed and written as markdown.

For SQLite and PostgreSQL, 1 and 2 workers: a fresh database, `passkeys run` (gRPC + Envoy) as
a subprocess, the load generator (bench/load.py) as another, the server's process tree's
resident memory sampled all along. BENCH_QUICK=1 runs every row with tiny counts;
BENCH_OUT names the markdown file (default bench/results.md).
"""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.databases import fresh_database

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("BENCH_OUT", "bench/results.md"))
# BENCH_DATABASES / BENCH_WORKERS narrow the run while working on one part.
DATABASES = tuple(os.environ.get("BENCH_DATABASES", "sqlite,postgres").split(","))
WORKERS = tuple(int(w) for w in os.environ.get("BENCH_WORKERS", "1,2").split(","))
TRANSPORTS = ("grpc", "rest", "grpc-web")
CONCURRENCY = (1, 16, 64)
MODES = ("verify", "full")
BIG_IN_FLIGHT = 64
TICKS = os.sysconf("SC_CLK_TCK")
READY = re.compile(r"gRPC on (\S+); REST and grpc-web on http://(\S+) ")


def warm_for(concurrency: int) -> int:
    """Untimed calls first: one per concurrent caller opens every connection."""
    return min(concurrency, 4) if QUICK else concurrency


def count_for(mode: str, concurrency: int) -> int:
    if QUICK:
        return max(8, concurrency)
    base = 600 if mode == "verify" else 300
    return base // 3 if concurrency == 1 else base


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

    def peak_mib(self, start: float = 0.0, end: float = float("inf")) -> float:
        inside = [s[1] for s in self.samples if start <= s[0] <= end]
        return round(max(inside, default=0) / 1024, 1)

    def cpu_s(self, start: float, end: float) -> tuple[float, float]:
        """CPU seconds of the server and of Envoy between two times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return 0.0, 0.0
        return inside[-1][2] - inside[0][2], inside[-1][3] - inside[0][3]


@contextmanager
def service(database_url: str, workers: int, tmp: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, str, str]]:
    """`passkeys run` on loopback ports: (process, gRPC address, HTTP address, admin token)."""
    log = tmp / f"server-{workers}.log"
    env = {
        **os.environ,
        "PASSKEYS_DATABASE_URL": database_url,
        "PASSKEYS_WORKERS": str(workers),
        "PASSKEYS_GRPC_ADDR": "127.0.0.1:0",
        "PASSKEYS_HTTP_ADDR": "127.0.0.1:0",
        "PASSKEYS_ADMIN_PAT_PATH": str(tmp / "admin.pat"),
        "PASSKEYS_RP_ID": "localhost",
        "PASSKEYS_ORIGINS": "http://localhost:8080",
    }
    with log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "passkeys", "run"], env=env, stderr=sink, stdout=sink)
    try:
        deadline = time.monotonic() + 60
        while not (found := READY.search(log.read_text(errors="replace"))):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"passkeys run did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield proc, found.group(1), found.group(2), (tmp / "admin.pat").read_text().strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(db: str, workers: int) -> dict[str, Any]:
    cells = [
        {"transport": t, "mode": m, "concurrency": c, "count": count_for(m, c), "warm": warm_for(c)}
        for t in TRANSPORTS
        for c in CONCURRENCY
        for m in MODES
    ]
    cells.append(
        {
            "transport": "grpc",
            "mode": "big",
            "concurrency": BIG_IN_FLIGHT,
            "count": BIG_IN_FLIGHT,
            "warm": warm_for(BIG_IN_FLIGHT),
        }
    )
    with tempfile.TemporaryDirectory(prefix="passkeys-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        with fresh_database(db, tmp) as url, service(url, workers, tmp) as (proc, grpc_at, http_at, token):
            sampler = Sampler(proc.pid)
            idle = sampler.measure()[0] / 1024
            threading.Thread(target=sampler.run, daemon=True).start()
            plan = {"grpc": grpc_at, "http": http_at, "token": token, "cells": cells}
            load = subprocess.run(
                [sys.executable, "-m", "bench.load"],
                input=json.dumps(plan) + "\n",
                capture_output=True,
                text=True,
                timeout=1800,
                check=False,
            )
            sampler.stop.set()
            if load.returncode != 0:
                raise RuntimeError(f"load generator failed ({db}, {workers} workers):\n{load.stderr[-3000:]}")
            results = [json.loads(line) for line in load.stdout.splitlines() if line.strip()]
            for r in results:
                r["peak_rss_mib"] = sampler.peak_mib(*r["window"])
                server_cpu, envoy_cpu = sampler.cpu_s(*r["window"])
                r["server_cpu_ms"] = round(server_cpu * 1000 / max(1, r["ok"]), 3)
                r["envoy_cpu_ms"] = round(envoy_cpu * 1000 / max(1, r["ok"]), 3)
            return {
                "db": db,
                "workers": workers,
                "idle_rss_mib": round(idle, 1),
                "peak_rss_mib": sampler.peak_mib(),
                "cells": results,
            }


def floor(seconds: float) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.floor", str(seconds)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def attestation_cost(seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.attestation", str(seconds)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def render_attestation(cost: dict[str, Any]) -> str:
    lines = [
        "",
        "### Attestation policy: `verify_credential` with PASSKEYS_ATTESTATION_POLICY=mds against none, one core",
        "",
        "| credential | none µs | mds µs | mds ÷ none |",
        "|---|---:|---:|---:|",
        *(f"| {k} | {v['none_us']:,.1f} | {v['mds_us']:,.1f} | {v['mds_over_none']:.2f} |" for k, v in cost.items()),
    ]
    return "\n".join(lines) + "\n"


def machine() -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "usable_cores": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "python": platform.python_version(),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.3f}" if base else "-"


def render(info: dict[str, str], floors: dict[str, float], runs: list[dict[str, Any]], elapsed: float) -> str:
    packed = floors["packed"]
    lines = [
        f"Measured {info['date']} on {info['nproc']} cores ({info['usable_cores']} usable), {info['cpu']}, "
        f"Python {info['python']}; load average before the run {info['load_before']}. The machine was shared "
        f"with other engineers' test runs, and the load generator runs on the same cores as the server."
        + (" BENCH_QUICK: tiny counts, not a measurement." if QUICK else ""),
        "",
        "### Floor: bare `webauthn.verify_registration_response`, one core",
        "",
        "| attestation | verifies/s |",
        "|---|---:|",
        *(f"| {att} | {rate:,.0f} |" for att, rate in floors.items()),
        "",
        "### The service (packed attestation, ES256)",
        "",
        "verify = VerifyPasskeyRegistration only (registrations prepared before the clock); full = "
        "RegisterPasskey + signing + VerifyPasskeyRegistration. Ratios are to the packed floor; "
        "*per worker* divides by the worker count.",
        "",
        "| db | workers | transport | mode | concurrency | ok | failed | calls/s | ÷ floor | ÷ floor per worker "
        "| p50 ms | p99 ms | server CPU ms/call | Envoy CPU ms/call | load generator CPU ms/call | peak RSS MiB |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        for c in run["cells"]:
            if c["mode"] == "big":
                continue
            lines.append(
                f"| {run['db']} | {run['workers']} | {c['transport']} | {c['mode']} | {c['concurrency']} | {c['ok']} "
                f"| {c['failed']} | {c['rate']:,.0f} | {_ratio(c['rate'], packed)} "
                f"| {_ratio(c['rate'] / run['workers'], packed)} | {c['p50_ms']} | {c['p99_ms']} "
                f"| {c['server_cpu_ms']} | {c['envoy_cpu_ms'] if c['transport'] != 'grpc' else '-'} "
                f"| {c['client_cpu_ms']} | {c['peak_rss_mib']} |"
            )
    lines += [
        "",
        "### REST and grpc-web through Envoy against direct gRPC (verify only)",
        "",
        "| db | workers | concurrency | gRPC/s | REST/s | REST ÷ gRPC | grpc-web/s | grpc-web ÷ gRPC |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        by = {(c["transport"], c["mode"], c["concurrency"]): c["rate"] for c in run["cells"]}
        for conc in CONCURRENCY:
            g, r, w = (by[(t, "verify", conc)] for t in TRANSPORTS)
            lines.append(
                f"| {run['db']} | {run['workers']} | {conc} | {g:,.0f} | {r:,.0f} | {_ratio(r, g)} | {w:,.0f} "
                f"| {_ratio(w, g)} |"
            )
    lines += [
        "",
        "### Memory: resident set of the server's processes (Envoy not counted)",
        "",
        "| db | workers | idle MiB | peak during the run MiB "
        f"| peak with {BIG_IN_FLIGHT} x 1 MiB credentials in flight MiB "
        "| those verifies ok/failed |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        big = next(c for c in run["cells"] if c["mode"] == "big")
        lines.append(
            f"| {run['db']} | {run['workers']} | {run['idle_rss_mib']} | {run['peak_rss_mib']} | {big['peak_rss_mib']} "
            f"| {big['ok']}/{big['failed']} |"
        )
    failures = [(r["db"], r["workers"], c) for r in runs for c in r["cells"] if c["failed"]]
    lines += ["", f"Whole run: {elapsed:.0f} s; failed calls: {sum(c['failed'] for *_, c in failures)}."]
    for db, workers, c in failures[:5]:
        lines.append(f"- {db}, {workers} workers, {c['transport']} {c['mode']} c{c['concurrency']}: {c['first_error']}")
    return "\n".join(lines) + "\n"


def main() -> int:
    started = time.monotonic()
    info = machine()
    floors = floor(0.3 if QUICK else 2.0)
    runs = []
    for db in DATABASES:
        for workers in WORKERS:
            print(f"bench: {db}, {workers} worker(s)...", file=sys.stderr, flush=True)
            runs.append(measure(db, workers))
    attestation = attestation_cost(0.3 if QUICK else 2.0)
    table = render(info, floors, runs, time.monotonic() - started) + render_attestation(attestation)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(table)
    OUT.with_suffix(".json").write_text(
        json.dumps({"machine": info, "floor": floors, "runs": runs, "attestation": attestation}, indent=1)
    )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
