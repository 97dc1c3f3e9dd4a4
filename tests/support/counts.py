"""How much the robustness tests did (fuzz examples, races run), for the closing note: kept per
session, printed in pytest's summary and written to tests/artifacts/robustness-counts.json."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "robustness-counts.json"

COUNTS: dict[str, Counter[str]] = {}


def record(kind: str, name: str, n: int = 1) -> None:
    COUNTS.setdefault(kind, Counter())[name] += n


def lines() -> list[str]:
    return [
        f"{kind}: {sum(c.values())} ({', '.join(f'{k} {v}' for k, v in sorted(c.items()))})"
        for kind, c in sorted(COUNTS.items())
    ]


def write() -> None:
    if not COUNTS:
        return
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps({k: dict(sorted(c.items())) for k, c in sorted(COUNTS.items())}, indent=2) + "\n")
