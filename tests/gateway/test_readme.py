"""The README's `sh` blocks, run one after another as a new user pastes them, against a real
`passkeys run` (real Envoy, the venv's CLI, curl, jq and buf curl), so that they cannot rot.

The only change made to them: the README's ports (127.0.0.1:50051, localhost:8080) become the
free ports this run listens on. The `make` lines are left out (CI runs `make test` itself)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.run import Run

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_values(text: str) -> list[object]:
    """Every JSON object printed (curl's on one line, buf curl's over several)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := text.find("{", at)) >= 0:
        try:
            value, end = decoder.raw_decode(text, at)
        except ValueError:
            at += 1
            continue
        found.append(value)
        at = end
    return found


def readme_script() -> str:
    blocks = BLOCK.findall((ROOT / "README.md").read_text())
    lines = [line for block in blocks for line in block.splitlines() if not line.startswith("make ")]
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(shutil.which("jq") is None or shutil.which("curl") is None, reason="needs curl and jq")
def test_the_readmes_shell_blocks_work_as_written(tmp_path: Path) -> None:
    grpc_port, http_port = free_port(), free_port()
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSKEYS_")}
    env |= {
        "PASSKEYS_GRPC_ADDR": f"127.0.0.1:{grpc_port}",
        "PASSKEYS_HTTP_ADDR": f"127.0.0.1:{http_port}",
        "PASSKEYS_ORIGINS": f"http://localhost:{http_port}",
        "PASSKEYS_METRICS_ADDR": "",
        "PASSKEYS_WORKERS": "1",
    }
    script = readme_script().replace("127.0.0.1:50051", f"127.0.0.1:{grpc_port}")
    script = script.replace("localhost:8080", f"localhost:{http_port}")
    run = Run(tmp_path, env, environ={})
    try:
        run.ready()
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        run.proc.terminate()
        run.proc.wait(30)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    answers = json_values(done.stdout)
    # No error bodies (google.rpc.Status or Connect's), and the calls that print did print.
    errors = [a for a in answers if isinstance(a, dict) and "message" in a and "code" in a]
    assert not errors, done.stdout
    assert any("publicKeyCredentialCreationOptions" in a for a in answers if isinstance(a, dict))
    assert any(
        a.get("code", {}).get("code") for a in answers if isinstance(a, dict) and isinstance(a.get("code"), dict)
    )
    assert any(a.get("kind") == "passkey_registration_link" for a in answers if isinstance(a, dict))
    assert re.search(r"^sent \d+$", done.stdout, re.M)
    assert re.search(r"^pat_\S+$", done.stdout, re.M)
