"""Where one VerifyPasskeyRegistration's CPU goes inside the running server, under load.

    PYTHONPATH=. .venv/bin/python -m bench.profile_server [COUNT]      (make bench-profile)

`passkeys run` on a fresh SQLite file, one worker pinned to one core, the load generator on the
other (gRPC, verify only, concurrency 16, as in issue 17's table), three timed windows of COUNT
verifies each (default 3000):

1. no profiler: the CPU of every thread of the server (schedstat, user/system split from
   /proc/PID/task/TID/stat) and its context switches, per verify, by kind of thread;
2. `perf record` (the kernel's sampling, no pause of the process): the share of each shared
   object (the interpreter, gRPC's C core, OpenSSL, SQLite, the kernel, ...) by kind of thread;
3. `py-spy record --nonblocking --gil` (Python stacks at 100 Hz of the thread holding the GIL,
   that is of Python actually running; without --gil, threads queued on a lock count as
   active): the request threads' samples by package of the innermost frame, and the
   heaviest functions of ours.

Then the same verify in one process without the network (bench/profile_verify.py, pinned to the
same core): the difference is the in-server residual. Prints markdown and writes it to
bench/profile.md (BENCH_PROFILE_OUT).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.processes import ROOT, bench_module, cores, pinned, service, worker_pids
from tests.support.databases import fresh_database

OUT = Path(os.environ.get("BENCH_PROFILE_OUT", "bench/profile.md"))
PY_SPY = Path(sys.executable).parent / "py-spy"
TICKS = os.sysconf("SC_CLK_TCK")
# Kinds of thread of the sync gRPC server, by the name py-spy reports (Python threads) or by
# the kernel's comm (gRPC's C++ threads).
KINDS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("request handlers (Python, grpc_N)", lambda name: name.startswith("grpc_")),
    ("gRPC's completion-queue loop (Python, _serve)", lambda name: "_serve" in name),
    # grpc.aio's event loop (server.py's thread): reads, parses and answers every call.
    ("grpc.aio's event loop (Python, grpc-aio)", lambda name: name.startswith("grpc-aio")),
    ("gRPC core I/O (C++, event_engine)", lambda name: name.startswith("event_engine")),
)
OTHER = "everything else (main, metrics, watchdog, timers)"


def kind_of(name: str) -> str:
    return next((kind for kind, match in KINDS if match(name)), OTHER)


def _threads(pid: int) -> dict[int, dict[str, float]]:
    """Per thread: comm, on-CPU seconds (schedstat), user and system ticks, context switches."""
    out: dict[int, dict[str, Any]] = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        base = f"/proc/{pid}/task/{task}"
        try:
            stat = Path(f"{base}/stat").read_text()
            run_ns = int(Path(f"{base}/schedstat").read_text().split()[0])
            status = Path(f"{base}/status").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        switches = dict(re.findall(r"^(\w*ctxt_switches):\s+(\d+)", status, re.MULTILINE))
        out[int(task)] = {
            "comm": stat[stat.index("(") + 1 : stat.rindex(")")],
            "cpu_s": run_ns / 1e9,
            "user": int(fields[11]),
            "system": int(fields[12]),
            "voluntary": int(switches.get("voluntary_ctxt_switches", 0)),
            "involuntary": int(switches.get("nonvoluntary_ctxt_switches", 0)),
        }
    return out


def _python_names(pid: int) -> dict[int, str]:
    """Thread id -> Python thread name, from one `py-spy dump`."""
    dump = subprocess.run([str(PY_SPY), "dump", "--pid", str(pid)], capture_output=True, text=True, check=False)
    found = re.findall(r'^Thread (\d+) \(\w+(?:\+gil)?\): "([^"]*)"', dump.stdout, re.MULTILINE)
    return {int(tid): name for tid, name in found}


def _names(pid: int, threads: dict[int, dict[str, Any]]) -> dict[int, str]:
    python = _python_names(pid)
    return {tid: python.get(tid, info["comm"]) for tid, info in threads.items()}


Hooks = dict[int, Callable[[], None]]


class Windows:
    """The load generator's stderr, read in a thread: each timed window's begin and end run the
    hooks given for that window's number."""

    def __init__(self, stderr: Any, on_begin: Hooks, on_end: Hooks) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stderr, on_begin, on_end), daemon=True)
        self.thread.start()

    def _read(self, stderr: Any, on_begin: Hooks, on_end: Hooks) -> None:
        begun = ended = 0
        for line in stderr:
            self.lines.append(line)
            if line.startswith("bench.load: window begins"):
                begun += 1
                on_begin.get(begun, lambda: None)()
            elif line.startswith("bench.load: window ends"):
                ended += 1
                on_end.get(ended, lambda: None)()


def _per_thread_kind(before: dict[int, dict], after: dict[int, dict], names: dict[int, str], calls: int) -> list[str]:
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    for tid, now in after.items():
        was = before.get(tid, {k: 0 for k in now if k != "comm"})
        kind = kind_of(names.get(tid, now["comm"]))
        sums[kind]["threads"] += 1
        for key in ("cpu_s", "user", "system", "voluntary", "involuntary"):
            sums[kind][key] += now[key] - was[key]
    total = sum(s["cpu_s"] for s in sums.values())
    lines = [
        "| threads | count | CPU ms per verify | of which system | voluntary / involuntary switches per verify |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in [k for k, _ in KINDS] + [OTHER]:
        s = sums.get(kind)
        if not s:
            continue
        ticks = s["user"] + s["system"]
        system = s["cpu_s"] * s["system"] / ticks if ticks else 0.0
        lines.append(
            f"| {kind} | {s['threads']} | {s['cpu_s'] * 1000 / calls:.3f} | {system * 1000 / calls:.3f} "
            f"| {s['voluntary'] / calls:.2f} / {s['involuntary'] / calls:.2f} |"
        )
    lines.append(f"| **all** | {sum(s['threads'] for s in sums.values())} | **{total * 1000 / calls:.3f}** | | |")
    return lines


def _perf_table(data: Path, names: dict[int, str], cpu_ms: float) -> list[str]:
    """perf's samples by kind of thread and shared object, as ms per verify (of the measured CPU)."""
    report = subprocess.run(
        ["perf", "report", "-i", str(data), "--stdio", "--sort", "pid,dso", "-q", "--percent-limit", "0.3"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    shares: Counter[tuple[str, str]] = Counter()
    for percent, tid, dso in re.findall(r"^\s*([\d.]+)%\s+(\d+):\S*\s+(\S+)", report, re.M):
        shares[(kind_of(names.get(int(tid), "")), _dso(dso))] += float(percent)
    if not shares:
        return [f"(perf gave no samples: {report[:300]!r})"]
    lines = ["| threads | shared object | share of samples | ≈ ms per verify |", "|---|---|---:|---:|"]
    for (kind, dso), percent in shares.most_common(16):
        lines.append(f"| {kind} | {dso} | {percent:.1f} % | {cpu_ms * percent / 100:.3f} |")
    handlers = [str(tid) for tid, name in names.items() if kind_of(name) == KINDS[0][0]]
    symbols = subprocess.run(
        [
            *("perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", "dso,sym", "-q"),
            *("--percent-limit", "0.7", "--tid", ",".join(handlers)),
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = re.findall(r"^\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.+)$", symbols, re.MULTILINE)
    lines += [
        "",
        "| request threads: heaviest symbols | shared object | share of their samples |",
        "|---|---|---:|",
        *(f"| `{sym.strip()}` | {_dso(dso)} | {percent} % |" for percent, dso, sym in found[:20]),
    ]
    return lines


def _dso(name: str) -> str:
    if "kernel" in name:
        return "the kernel (syscalls, scheduling, loopback TCP)"
    if "libpython" in name:
        return "the interpreter (libpython)"
    if "cygrpc" in name:
        return "gRPC's C core (cygrpc)"
    if "libcrypto" in name or "_rust" in name or "libssl" in name:
        return "OpenSSL / cryptography"
    if "sqlite" in name:
        return "SQLite"
    if name.startswith("libc") or "ld-linux" in name:
        return "libc (malloc, locks, memcpy)"
    if "_message" in name or "protobuf" in name or "upb" in name:
        return "protobuf (upb)"
    return name


PACKAGES = (
    ("sqlalchemy/", "SQLAlchemy"),
    ("webauthn/", "py_webauthn"),
    ("cryptography/", "cryptography"),
    ("cbor2/", "cbor2"),
    ("google/protobuf/", "protobuf"),
    ("grpc/", "grpc (Python layer)"),
    ("prometheus_client/", "prometheus_client"),
    ("logging/", "logging"),
    ("passkeys/", "passkeys"),
    ("json/", "json"),
    ("threading.py", "threading"),
    ("concurrent/", "thread pool"),
    ("contextlib.py", "contextlib"),
)


def _package(frame: str) -> str:
    where = frame[frame.rfind("(") + 1 :]
    return next((name for prefix, name in PACKAGES if prefix in where), "other (stdlib, interpreter)")


def _py_spy_tables(raw: Path, names: dict[int, str]) -> list[str]:
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        head = frames[0]  # "thread (TID): NAME"
        found = re.match(r"thread \((\d+)\)", head)
        kind = kind_of(names.get(int(found.group(1)), head) if found else head)
        count = int(count_text)
        by_kind[kind] += count
        if not kind.startswith("request handlers") or len(frames) < 2:
            continue
        total += count
        own[_package(frames[-1])] += count
        for frame in set(frames[1:]):
            if "passkeys/" in frame:
                ours[frame.split(" (")[0]] += count
    all_samples = sum(by_kind.values()) or 1
    lines = [
        "Samples holding the GIL, by kind of thread: "
        + ", ".join(f"{kind} {n * 100 / all_samples:.0f} %" for kind, n in by_kind.most_common())
        + ".",
        "",
        "| request threads: innermost frame in | share of their samples |",
        "|---|---:|",
        *(f"| {package} | {n * 100 / max(1, total):.1f} % |" for package, n in own.most_common()),
        "",
        "| our functions (inclusive) | share of the request threads' samples |",
        "|---|---:|",
        *(f"| `{name}` | {n * 100 / max(1, total):.1f} % |" for name, n in ours.most_common(14)),
    ]
    return lines


def _in_process(core: int, count: int) -> float:
    """bench/profile_verify.py's CPU ms per verify (the same verify in one thread, no network)."""
    out = bench_module("profile_verify", "sqlite", str(count), core=core)
    found = re.search(r"\(([\d.]+) ms CPU\)", out)
    if not found:
        raise RuntimeError(f"bench.profile_verify printed no CPU figure:\n{out[-2000:]}")
    return float(found.group(1))


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    server_core, load_core = cores()
    os.sched_setaffinity(0, {load_core})
    have_perf = shutil.which("perf") is not None
    cell = {"transport": "grpc", "mode": "verify", "concurrency": 16, "count": count, "warm": 150}
    with tempfile.TemporaryDirectory(prefix="passkeys-profile-") as tmp_dir:
        tmp = Path(tmp_dir)
        with fresh_database("sqlite", tmp) as url, service(url, 1, tmp, core=server_core) as (proc, grpc_at, _, token):
            (pid,) = worker_pids(proc.pid)  # the one worker serves; its parent only supervises
            snaps: dict[str, Any] = {}
            profilers: list[subprocess.Popen[bytes]] = []

            def snapshot(key: str) -> Callable[[], None]:
                return lambda: snaps.__setitem__(key, _threads(pid))

            def after_first() -> None:
                snaps["after"] = _threads(pid)
                snaps["names"] = _names(pid, snaps["after"])

            def attach(command: list[str]) -> Callable[[], None]:
                return lambda: profilers.append(subprocess.Popen(pinned(command, load_core), stderr=subprocess.DEVNULL))

            def detach() -> None:
                for running in profilers:
                    running.send_signal(2)  # SIGINT: both write what they have and exit
                    running.wait(60)
                profilers.clear()

            perf_data, spy_raw = tmp / "perf.data", tmp / "py-spy.raw"
            perf_cmd = ["perf", "record", "-F", "997", "-p", str(pid), "-o", str(perf_data), "-q"]
            spy_cmd = [str(PY_SPY), "record", "--pid", str(pid), "--rate", "100", "--nonblocking", "--threads", "--gil"]
            spy_cmd += ["--format", "raw", "--output", str(spy_raw)]
            on_begin = {1: snapshot("before"), 2: attach(perf_cmd) if have_perf else lambda: None, 3: attach(spy_cmd)}
            on_end = {1: after_first, 2: detach, 3: detach}
            plan = {"grpc": grpc_at, "token": token, "cpu_pids": [pid], "cells": [cell, cell, cell]}
            load = subprocess.Popen(
                pinned([sys.executable, "-m", "bench.load"], load_core),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            assert load.stdin is not None and load.stdout is not None
            windows = Windows(load.stderr, on_begin, on_end)
            load.stdin.write(json.dumps(plan) + "\n")
            load.stdin.close()
            results = [json.loads(line) for line in load.stdout if line.strip()]
            load.wait()
            windows.thread.join(30)
            if load.returncode != 0 or len(results) != 3:
                raise RuntimeError("load generator failed:\n" + "".join(windows.lines)[-3000:])
            names = snaps["names"]
            plain = results[0]
            cpu_ms = plain["server_cpu_s"] * 1000 / plain["ok"]
            threads = _per_thread_kind(snaps["before"], snaps["after"], names, plain["ok"])
            perf = (
                _perf_table(perf_data, names, results[1]["server_cpu_s"] * 1000 / results[1]["ok"]) if have_perf else []
            )
            spy = _py_spy_tables(spy_raw, names)
        in_process = _in_process(server_core, 600)
    lines = [
        f"### One verify inside the server (SQLite, one worker, gRPC, concurrency 16, {count} verifies a window)",
        "",
        f"Server: {cpu_ms:.3f} ms CPU per verify at {plain['rate']:,.0f} verifies/s (no profiler); the same verify "
        f"in one thread without the network (bench/profile_verify.py): {in_process:.3f} ms; the in-server residual: "
        f"**{cpu_ms - in_process:.3f} ms**. Load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "",
        "#### CPU by kind of thread (schedstat, no profiler)",
        "",
        *threads,
        "",
        f"#### perf: shared objects by kind of thread ({results[1]['rate']:,.0f} verifies/s while sampled)",
        "",
        *(perf or ["(perf is not installed)"]),
        "",
        f"#### py-spy: Python frames ({results[2]['rate']:,.0f} verifies/s while sampled)",
        "",
        *spy,
    ]
    text = "\n".join(lines) + "\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
