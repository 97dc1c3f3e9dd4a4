"""`make bench`: the whole table in one run, printed and written as markdown.

First issue 17's table (bench/versus.py): the floor, our service on SQLite and PostgreSQL and
the two peers of bench/peers, each pinned to one core, three repetitions. Then the grid: for
SQLite and PostgreSQL, 1 and 2 workers, a fresh database, `passkeys run` (gRPC + Envoy) as a
subprocess, the load generator (bench/load.py) as another, on the shared cores, the server's
process tree's resident memory sampled all along; in the same server, the sign-in rows
(SessionService over gRPC and REST) against the bare `verify_authentication_response` floor
measured in the same run. BENCH_QUICK=1 runs every row with tiny
counts; BENCH_OUT names the markdown file (default bench/results.md).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import versus
from bench.load import SIGNIN_MODES
from bench.processes import Sampler, bench_module, floor, run_load, service, with_server_cpu
from tests.support.databases import fresh_database

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("BENCH_OUT", "bench/results.md"))
# BENCH_DATABASES / BENCH_WORKERS narrow the run while working on one part.
DATABASES = tuple(os.environ.get("BENCH_DATABASES", "sqlite,postgres").split(","))
WORKERS = tuple(int(w) for w in os.environ.get("BENCH_WORKERS", "1,2").split(","))
# BENCH_PARTS=versus (issue 17's table only), grid (the transports, workers and memory only) or
# signin (the sign-in rows only), or several of them, comma-separated.
PARTS = tuple(os.environ.get("BENCH_PARTS", "versus,grid,signin").split(","))
TRANSPORTS = ("grpc", "rest", "grpc-web")
CONCURRENCY = (1, 16, 64)
MODES = ("verify", "full")
BIG_IN_FLIGHT = 64
# Sign-in: CreateSession + SetSession ("signin") and SetSession alone ("setsession").
SIGNIN_TRANSPORTS = ("grpc", "rest")
SIGNIN_CONCURRENCY = (1, 16)


def warm_for(concurrency: int) -> int:
    """Untimed calls first: one per concurrent caller opens every connection."""
    return min(concurrency, 4) if QUICK else concurrency


def count_for(mode: str, concurrency: int) -> int:
    if QUICK:
        return max(8, concurrency)
    base = 600 if mode in ("verify", "setsession") else 300
    return base // 3 if concurrency == 1 else base


def _cells(transports: tuple[str, ...], concurrencies: tuple[int, ...], modes: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"transport": t, "mode": m, "concurrency": c, "count": count_for(m, c), "warm": warm_for(c)}
        for t in transports
        for c in concurrencies
        for m in modes
    ]


def measure(db: str, workers: int) -> dict[str, Any]:
    cells = []
    if "grid" in PARTS:
        cells += _cells(TRANSPORTS, CONCURRENCY, MODES)
        cells.append(
            {
                "transport": "grpc",
                "mode": "big",
                "concurrency": BIG_IN_FLIGHT,
                "count": BIG_IN_FLIGHT,
                "warm": warm_for(BIG_IN_FLIGHT),
            }
        )
    if "signin" in PARTS:
        cells += _cells(SIGNIN_TRANSPORTS, SIGNIN_CONCURRENCY, SIGNIN_MODES)
    with tempfile.TemporaryDirectory(prefix="passkeys-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        with fresh_database(db, tmp) as url, service(url, workers, tmp) as (proc, grpc_at, http_at, token):
            sampler = Sampler(proc.pid)
            idle = sampler.measure()[0] / 1024
            sampler.start()
            plan = {"grpc": grpc_at, "http": http_at, "token": token, "cells": cells}
            results = run_load(plan, what=f"{db}, {workers} workers")
            sampler.stop.set()
            with_server_cpu(results, sampler)
            return {
                "db": db,
                "workers": workers,
                "idle_rss_mib": round(idle, 1),
                "peak_rss_mib": sampler.peak_mib(),
                "cells": results,
            }


def attestation_cost(seconds: float) -> dict[str, Any]:
    return json.loads(bench_module("attestation", str(seconds)))


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
        "node": _node_version(),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "(none)"


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.3f}" if base else "-"


def render(
    info: dict[str, str],
    floors: dict[str, float],
    against: dict[str, Any] | None,
    runs: list[dict[str, Any]],
    elapsed: float,
) -> str:
    lines = [
        f"Measured {info['date']} on {info['nproc']} cores ({info['usable_cores']} usable), {info['cpu']}, "
        f"Python {info['python']}, Node {info['node']}; load average before the run {info['load_before']}, "
        f"after it {info['load_after']}. The machine was shared with other engineers' test runs."
        + (" BENCH_QUICK: tiny counts, not a measurement." if QUICK else ""),
        "",
        *([*versus.render(against), ""] if against else []),
    ]
    if runs and "grid" in PARTS:
        lines += _render_grid(floors, runs)
    if runs and "signin" in PARTS:
        lines += _render_signin(floors["assertion"], runs)
    failures = [(r["db"], r["workers"], c) for r in runs for c in r["cells"] if c["failed"]]
    failed = sum(c["failed"] for *_, c in failures)
    failed += sum(r["failed"] for rows in (against or {}).get("rows", {}).values() for r in rows)
    lines += ["", f"Whole run: {elapsed:.0f} s; failed calls: {failed}."]
    for db, workers, c in failures[:5]:
        lines.append(f"- {db}, {workers} workers, {c['transport']} {c['mode']} c{c['concurrency']}: {c['first_error']}")
    for row, rows in (against or {}).get("rows", {}).items():
        lines += [f"- versus {row}: {r['first_error']}" for r in rows if r["first_error"]][:2]
    return "\n".join(lines) + "\n"


CELL_HEAD = [
    "| db | workers | transport | mode | concurrency | ok | failed | calls/s | ÷ floor | ÷ floor per worker "
    "| p50 ms | p99 ms | server CPU ms/call | Envoy CPU ms/call | load generator CPU ms/call | peak RSS MiB |",
    "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def _cell_row(run: dict[str, Any], c: dict[str, Any], base: float) -> str:
    return (
        f"| {run['db']} | {run['workers']} | {c['transport']} | {c['mode']} | {c['concurrency']} | {c['ok']} "
        f"| {c['failed']} | {c['rate']:,.0f} | {_ratio(c['rate'], base)} "
        f"| {_ratio(c['rate'] / run['workers'], base)} | {c['p50_ms']} | {c['p99_ms']} "
        f"| {c['server_cpu_ms']} | {c['envoy_cpu_ms'] if c['transport'] != 'grpc' else '-'} "
        f"| {c['client_cpu_ms']} | {c['peak_rss_mib']} |"
    )


def _render_signin(floor_rate: float, runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "### Sign-in: SessionService, user-first, ES256, user verification required",
        "",
        f"Floor: bare `webauthn.verify_authentication_response`, one core, same assertion kind: "
        f"{floor_rate:,.0f} verifies/s. signin = CreateSession + signing the assertion + SetSession; "
        "setsession = SetSession only (sessions created and assertions signed before the clock). "
        "Ratios are to that floor; *per worker* divides by the worker count.",
        "",
        *CELL_HEAD,
    ]
    for run in runs:
        lines += [_cell_row(run, c, floor_rate) for c in run["cells"] if c["mode"] in SIGNIN_MODES]
    return lines


def _render_grid(floors: dict[str, float], runs: list[dict[str, Any]]) -> list[str]:
    packed = floors["packed"]
    registration = {att: rate for att, rate in floors.items() if att != "assertion"}
    lines = [
        "The grid below runs the server and the load generator on the same (shared) cores, unpinned.",
        "",
        "### Floor: bare `webauthn.verify_registration_response`, one core",
        "",
        "| attestation | verifies/s |",
        "|---|---:|",
        *(f"| {att} | {rate:,.0f} |" for att, rate in registration.items()),
        "",
        "### The service (packed attestation, ES256)",
        "",
        "verify = VerifyPasskeyRegistration only (registrations prepared before the clock); full = "
        "RegisterPasskey + signing + VerifyPasskeyRegistration. Ratios are to the packed floor; "
        "*per worker* divides by the worker count.",
        "",
        *CELL_HEAD,
    ]
    for run in runs:
        lines += [_cell_row(run, c, packed) for c in run["cells"] if c["mode"] in MODES]
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
    return lines


def main() -> int:
    started = time.monotonic()
    info = machine()
    against = None
    if "versus" in PARTS:
        with tempfile.TemporaryDirectory(prefix="passkeys-bench-") as tmp:
            against = versus.measure(
                Path(tmp),
                reps=1 if QUICK else 3,
                count=32 if QUICK else 1500,
                # Enough untimed calls for Node's JIT and every server's caches to settle.
                warm=warm_for(versus.CONCURRENCY) if QUICK else 150,
                floor_s=0.3 if QUICK else 2.0,
            )
    # The sign-in floor ("assertion") in the same run as the rows it divides.
    floors = {att: v["rate"] for att, v in floor(0.3 if QUICK else 2.0, ("none", "packed", "assertion")).items()}
    runs = []
    for db in DATABASES if {"grid", "signin"} & set(PARTS) else ():
        for workers in WORKERS:
            print(f"bench: {db}, {workers} worker(s)...", file=sys.stderr, flush=True)
            runs.append(measure(db, workers))
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    attestation = attestation_cost(0.3 if QUICK else 2.0)
    table = render(info, floors, against, runs, time.monotonic() - started) + render_attestation(attestation)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(table)
    OUT.with_suffix(".json").write_text(
        json.dumps(
            {"machine": info, "floor": floors, "versus": against, "runs": runs, "attestation": attestation}, indent=1
        )
    )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
