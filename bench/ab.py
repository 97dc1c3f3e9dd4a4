"""Our service's verify-only row of issue 17's table for several variants, measured alternately
(A B C A B C ...) in the same minutes, so that a busy machine falls on every variant alike.

    PYTHONPATH=. .venv/bin/python -m bench.ab [--db sqlite|postgres] [--reps N] [--count N] \
        NAME=[SRC_DIR][,VAR=VALUE...] ...

A variant is a source tree (its `src` put first on PYTHONPATH of the served `passkeys run`;
empty: this checkout) and environment settings, e.g. `main=` `threads4=,PASSKEYS_GRPC_THREADS=4`
`lean=/work/wt/lean/src`. Prints calls/s and server CPU ms per verify (min / median / max).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.versus import _measure_row


def _variant(text: str) -> tuple[str, str, dict[str, str]]:
    name, _, rest = text.partition("=")
    src, *settings = rest.split(",") if rest else [""]
    return name, src, dict(s.split("=", 1) for s in settings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--warm", type=int, default=150)
    parser.add_argument("variants", nargs="+")
    args = parser.parse_args()
    variants = [_variant(v) for v in args.variants]
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in variants}
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="passkeys-ab-") as tmp:
        for rep in range(args.reps):
            for name, src, settings in variants[rep % len(variants) :] + variants[: rep % len(variants)]:
                os.environ.clear()
                os.environ.update(saved)
                os.environ.update(settings)
                if src:
                    os.environ["PYTHONPATH"] = os.pathsep.join([src, saved.get("PYTHONPATH", "")])
                place = Path(tmp) / f"{name}-{rep}"
                place.mkdir()
                try:
                    cell = _measure_row(args.db, place, args.count, args.warm, 0.0)
                finally:
                    os.environ.clear()
                    os.environ.update(saved)
                results[name].append(cell)
                print(f"{name} rep {rep + 1}: {cell['rate']:.0f}/s {cell['server_cpu_ms']:.3f} ms", file=sys.stderr)
    for name, cells in results.items():
        rates = sorted(c["rate"] for c in cells)
        cpus = sorted(c["server_cpu_ms"] for c in cells)
        print(
            f"{name:12s} calls/s {rates[0]:6.0f} / {statistics.median(rates):6.0f} / {rates[-1]:6.0f}   "
            f"CPU ms {cpus[0]:.3f} / {statistics.median(cpus):.3f} / {cpus[-1]:.3f}   "
            f"failed {sum(c['failed'] for c in cells)}"
        )


if __name__ == "__main__":
    main()
