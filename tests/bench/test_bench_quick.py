"""`make bench` in its tiny form (BENCH_QUICK=1): the whole run works end to end and its tables
have every row, each with sane numbers (no failed call, every call counted, rates, latencies,
CPU, memory): issue 17's table of the floor, our service and the two peers of bench/peers, and
the grid on SQLite and PostgreSQL, with 1 and 2 workers, and its sign-in rows (SessionService over
gRPC and REST against the bare verify_authentication_response floor of the same run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import run, versus
from bench.load import SIGNIN_MODES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_quick_bench_prints_every_row_with_sane_numbers(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run"],
        cwd=ROOT,
        env={**os.environ, "BENCH_QUICK": "1", "BENCH_OUT": str(out), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = out.read_text()
    assert done.stdout.strip() == table.strip()
    data = json.loads(out.with_suffix(".json").read_text())

    floor = data["floor"]
    assert 100 < floor["packed"] < floor["none"]  # none skips the signature check
    assert floor["assertion"] > 100
    assert f"same assertion kind: {floor['assertion']:,.0f} verifies/s" in table

    against = data["versus"]
    assert against["server_core"] != against["load_core"]  # the machine has 2 cores
    assert set(against["rows"]) == set(versus.ROWS)
    for row, reps in against["rows"].items():
        assert len(reps) == 1, row
        (rep,) = reps
        assert rep["rate"] > 0 and rep["failed"] == 0, (row, rep["first_error"])
        # CPU per verify: the floor's own, each server's read from its threads over the window.
        assert 0.01 < rep["server_cpu_ms"] < 100, row
        if row != "floor":
            assert rep["transport"] == ("grpc" if row in ("sqlite", "postgres") else "peer"), row
            assert rep["ok"] == rep["count"] and 0 < rep["p50_ms"] <= rep["p99_ms"] < 60_000, row
        assert f"| {versus.LABELS[row]} | " in table, row
    assert "Issue 17's targets for our service on SQLite, in calls/s" in table

    expected = {
        (db, workers, transport, mode, concurrency)
        for db in run.DATABASES
        for workers in run.WORKERS
        for transport in run.TRANSPORTS
        for mode in run.MODES
        for concurrency in run.CONCURRENCY
    }
    expected_signin = {
        (db, workers, transport, mode, concurrency)
        for db in run.DATABASES
        for workers in run.WORKERS
        for transport in run.SIGNIN_TRANSPORTS
        for mode in SIGNIN_MODES
        for concurrency in run.SIGNIN_CONCURRENCY
    }
    seen, seen_signin = set(), set()
    # Sign-in rows only under their own heading, registration rows only before it.
    signin_at = table.index("### Sign-in")
    for r in data["runs"]:
        assert r["idle_rss_mib"] > 20 and r["peak_rss_mib"] >= r["idle_rss_mib"]
        for c in r["cells"]:
            key = (r["db"], r["workers"], c["transport"], c["mode"], c["concurrency"])
            assert c["failed"] == 0, (key, c["first_error"])
            assert c["ok"] == c["count"], key  # every call answered, checked and counted
            assert c["rate"] > 0 and 0 < c["p50_ms"] <= c["p99_ms"] < 60_000, key
            assert c["server_cpu_ms"] >= 0 and c["client_cpu_ms"] > 0, key
            if c["mode"] == "big":
                assert c["concurrency"] == run.BIG_IN_FLIGHT and c["peak_rss_mib"] >= r["idle_rss_mib"]
            else:
                (seen_signin if c["mode"] in SIGNIN_MODES else seen).add(key)
                # One table row per cell, naming it; a sign-in row's ratio is to the sign-in floor.
                base = floor["assertion"] if c["mode"] in SIGNIN_MODES else floor["packed"]
                row = (
                    f"| {r['db']} | {r['workers']} | {c['transport']} | {c['mode']} | {c['concurrency']} | {c['ok']} "
                    f"| 0 | {c['rate']:,.0f} | {c['rate'] / base:.3f} |"
                )
                part = table[signin_at:] if c["mode"] in SIGNIN_MODES else table[:signin_at]
                assert row in part, row
    assert seen == expected
    assert seen_signin == expected_signin
    for heading in (
        "### Against the endpoint",
        "### Floor",
        "### The service",
        "### REST and grpc-web",
        "### Memory",
        "### Sign-in",
    ):
        assert heading in table
    assert "failed calls: 0." in table
