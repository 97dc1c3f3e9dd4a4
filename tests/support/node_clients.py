"""ZITADEL's JavaScript clients as a Call (tests/support/client_flow.py): tests/clients/driver.mjs
runs in Node, one JSON line per call in and out. Its npm packages come from
tests/clients/package-lock.json (`make client-deps`, which `make test` runs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.client_flow import ADMIN, Call, Refused

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
CODE_NAMES = [
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
    "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
]  # fmt: skip


def node() -> str:
    found = shutil.which("node")
    assert found, "Node.js is needed for tests/clients"
    assert (CLIENTS / "node_modules" / "@zitadel" / "client").is_dir(), (
        "run `make client-deps` (npm ci in tests/clients)"
    )
    return found


@contextmanager
def node_client(client: str, protocol: str, base_url: str, admin_token: str) -> Iterator[Call]:
    proc = subprocess.Popen(
        [node(), str(CLIENTS / "driver.mjs"), client, protocol, base_url],
        cwd=CLIENTS,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin and proc.stdout

    def call(method: str, request: dict[str, Any], token: str | None = ADMIN) -> dict[str, Any]:
        assert proc.stdin and proc.stdout
        line = {"method": method, "request": request, "token": admin_token if token == ADMIN else token}
        proc.stdin.write(json.dumps(line) + "\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline() or '{"crash": "the driver stopped"}')
        assert "crash" not in answer, answer["crash"]
        if "error" in answer:
            error = answer["error"]
            raise Refused.of(CODE_NAMES[error["code"]], error["details"], error["message"])
        return answer["response"]

    try:
        yield call
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
