"""Issue 17's table: our service's VerifyPasskeyRegistration over gRPC against the floor and
against the minimal endpoints a user would write by hand (bench/peers).

Each server runs pinned to one core (taskset), the load generator (bench/load.py, the same
packed ES256 credentials signed before the clock, concurrency 16) and this process to the
other. Every row is measured `reps` times, in rounds (each round starts every server afresh,
in a rotated order, so that a busy minute on the shared machine falls on all rows alike);
the table gives min / median / max calls/s and the median server CPU per verify, and each
row's median rate as a ratio to our service on SQLite and to the floor.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path
from typing import Any

from bench.processes import (
    PEER_KINDS,
    Sampler,
    cores,
    floor,
    peer,
    run_load,
    service,
    with_server_cpu,
    worker_pids,
)
from tests.support.databases import fresh_database

CONCURRENCY = 16
ROWS = ("floor", "sqlite", "postgres", "node", "python")
LABELS = {
    "floor": "bare `verify_registration_response`, packed ES256 (the floor)",
    "sqlite": "our service, SQLite, gRPC verify-only",
    "postgres": "our service, PostgreSQL, gRPC verify-only",
    "node": "a minimal Node endpoint (node:http + @simplewebauthn/server + better-sqlite3)",
    "python": "a minimal Python endpoint (Starlette on uvicorn + py_webauthn + sqlite3)",
}
# Issue 17's targets for our service on SQLite: (what it is divided by, at least).
TARGETS = (("node", 1.5), ("python", 0.6), ("floor", 0.12))


def _cell(count: int, transport: str, warm: int) -> dict[str, Any]:
    return {"transport": transport, "mode": "verify", "concurrency": CONCURRENCY, "count": count, "warm": warm}


def _measure_row(row: str, tmp: Path, count: int, warm: int, floor_s: float) -> dict[str, Any]:
    server_core, load_core = cores()
    if row == "floor":
        packed = floor(floor_s, ("packed",), core=server_core)["packed"]
        return {"rate": packed["rate"], "server_cpu_ms": packed["cpu_ms"], "ok": 0, "failed": 0, "first_error": None}
    if row in PEER_KINDS:
        with peer(row, tmp, core=server_core) as (proc, http_at, token):
            sampler = Sampler(proc.pid).start()
            plan = {"http": http_at, "token": token, "cpu_pids": [proc.pid], "cells": [_cell(count, "peer", warm)]}
            results = run_load(plan, core=load_core, what=f"{row} peer")
            sampler.stop.set()
    else:
        with fresh_database(row, tmp) as url, service(url, 1, tmp, core=server_core) as (proc, grpc_at, _, token):
            sampler = Sampler(proc.pid).start()
            # The one worker (a child of the supervising process); Envoy idles on gRPC calls.
            pids = [proc.pid, *worker_pids(proc.pid)]
            plan = {"grpc": grpc_at, "token": token, "cpu_pids": pids, "cells": [_cell(count, "grpc", warm)]}
            results = run_load(plan, core=load_core, what=f"our service on {row}")
            sampler.stop.set()
    (cell,) = with_server_cpu(results, sampler)
    return cell


def measure(tmp: Path, *, reps: int, count: int, warm: int, floor_s: float) -> dict[str, Any]:
    server_core, load_core = cores()
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {load_core})  # this process (and its sampler) stays off the servers' core
    runs: dict[str, list[dict[str, Any]]] = {row: [] for row in ROWS}
    try:
        for rep in range(reps):
            for row in ROWS[rep % len(ROWS) :] + ROWS[: rep % len(ROWS)]:
                print(f"bench: versus, round {rep + 1}/{reps}: {row}...", file=sys.stderr, flush=True)
                place = tmp / f"{row}-{rep}"  # a fresh database, admin token and logs for each start
                place.mkdir()
                runs[row].append(_measure_row(row, place, count, warm, floor_s))
    finally:
        os.sched_setaffinity(0, before)
    return {"server_core": server_core, "load_core": load_core, "concurrency": CONCURRENCY, "rows": runs}


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def ratios(result: dict[str, Any], key: str = "rate") -> dict[str, float]:
    """Our service on SQLite divided by each other row, and PostgreSQL ÷ SQLite: of the median
    rates, or (key="server_cpu_ms") of the verifies per CPU second, which a busy machine moves less."""
    values = {row: _median(runs, key) for row, runs in result["rows"].items()}
    if key != "rate":
        values = {row: 1 / v if v else 0.0 for row, v in values.items()}
    ours = values["sqlite"]
    return {
        **{f"sqlite/{row}": ours / values[row] if values[row] else 0.0 for row in ROWS if row != "sqlite"},
        "postgres/sqlite": values["postgres"] / ours if ours else 0.0,
    }


def render(result: dict[str, Any]) -> list[str]:
    rows = result["rows"]
    reps = len(rows["floor"])
    ours, packed = _median(rows["sqlite"], "rate"), _median(rows["floor"], "rate")
    lines = [
        f"### Against the endpoint a user would write by hand (verify only, concurrency {result['concurrency']})",
        "",
        f"Each server pinned to core {result['server_core']}, the load generator to core {result['load_core']}; "
        f"{reps} repetition(s) in rounds, calls/s as min / median / max, CPU and ratios of the medians. "
        "Our service: `passkeys run`, one worker, gRPC. The peers (bench/peers) answer our REST paths with JSON "
        "over HTTP/1.1, one connection per concurrent caller; they check the bearer token and the library's checks "
        "only (docs/benchmarks.md says what else they leave out).",
        "",
        "| what | calls/s | server CPU ms per verify | ÷ our service (SQLite) | ÷ floor | p50 ms | p99 ms | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in ROWS:
        runs = rows[row]
        rates = sorted(r["rate"] for r in runs)
        rate = statistics.median(rates)
        span = " / ".join(f"{x:,.0f}" for x in (rates[0], rate, rates[-1]))
        timed = row != "floor"
        lines.append(
            f"| {LABELS[row]} | {span} | {_median(runs, 'server_cpu_ms'):.3f} | {rate / ours:.3f} "
            f"| {rate / packed:.3f} | {_median(runs, 'p50_ms') if timed else '-'} "
            f"| {_median(runs, 'p99_ms') if timed else '-'} | {sum(r['failed'] for r in runs) if timed else '-'} |"
        )
    got, by_cpu = ratios(result), ratios(result, "server_cpu_ms")
    lines += [
        "",
        "Issue 17's targets for our service on SQLite, in calls/s (and in verifies per CPU second): "
        + "; ".join(
            f"÷ {row} {got[f'sqlite/{row}']:.3f} ({by_cpu[f'sqlite/{row}']:.3f}), target ≥ {least}"
            for row, least in TARGETS
        )
        + f"; PostgreSQL ÷ SQLite {got['postgres/sqlite']:.3f} ({by_cpu['postgres/sqlite']:.3f}), target ≥ 0.7.",
    ]
    return lines
