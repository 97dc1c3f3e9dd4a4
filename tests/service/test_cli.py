"""`python -m passkeys serve` as a user starts it: settings from the environment, health,
reflection, a clear message for a bad setting, graceful shutdown on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def passkeys(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "passkeys", *args],
        # Metrics on any free port: parallel runs must not collide on the default 9464.
        env={**os.environ, "PASSKEYS_METRICS_ADDR": "127.0.0.1:0", **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_serving(channel: grpc.Channel, timeout: float = 20) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    while True:
        try:
            status = stub.Check(health_pb2.HealthCheckRequest(service="zitadel.user.v2.UserService"), timeout=1)
            assert status.status == health_pb2.HealthCheckResponse.SERVING
            return
        except grpc.RpcError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_on_the_default_sqlite_file_then_stop_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = passkeys("serve", env={"PASSKEYS_GRPC_ADDR": f"127.0.0.1:{port}"}, cwd=tmp_path)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            wait_serving(channel)
            # The first start wrote the admin's token, readable by its owner only.
            pat_file = tmp_path / "data" / "admin.pat"
            assert pat_file.stat().st_mode & 0o777 == 0o600
            bearer = (("authorization", f"Bearer {pat_file.read_text().strip()}"),)
            stub = pb_grpc.UserServiceStub(channel)
            user = stub.AddHumanUser(
                pb.AddHumanUserRequest(profile={"given_name": "A", "family_name": "B"}, email={"email": "a@b.example"}),
                metadata=bearer,
            )
            assert user.details.sequence == 1
            reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
            answers = list(
                reflect.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
            )
            names = {s.name for s in answers[0].list_services_response.service}
            assert {"zitadel.user.v2.UserService", "grpc.health.v1.Health"} <= names
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert (tmp_path / "data" / "passkeys.db").is_file()
    assert '"msg": "shutting down"' in err
    # One structured line per call, naming the method and the code.
    assert '"method": "/zitadel.user.v2.UserService/AddHumanUser"' in err
    assert '"code": "OK"' in err
    # Who called, by id: never the token itself.
    assert '"caller": "machine:' in err
    assert (tmp_path / "data" / "admin.pat").read_text().strip() not in err


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("PASSKEYS_CHALLENGE_TTL_S", "soon"),
        ("PASSKEYS_ORIGINS", "localhost:8080"),
        ("PASSKEYS_GRPC_ADDR", "nowhere"),
        ("PASSKEYS_DATABASE_URL", "passkeys.db"),
        ("PASSKEYS_RP_ID", "https://example.com"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(tmp_path: Path, var: str, value: str) -> None:
    proc = passkeys("serve", env={var: value}, cwd=tmp_path)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert var in err


def test_an_occupied_port_is_reported(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = passkeys("serve", env={"PASSKEYS_GRPC_ADDR": f"127.0.0.1:{port}"}, cwd=tmp_path)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "cannot start" in err


def test_admin_commands_make_a_working_org_manager_token(tmp_path: Path) -> None:
    def run(*args: str) -> str:
        proc = passkeys(*args, env={}, cwd=tmp_path)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        return out.strip()

    org = run("create-org", "--name", "acme", "--domain", "acme.example")
    bot = run("create-machine-user", "--org-id", org, "--name", "bot")
    run("grant-role", "--user-id", bot, "--role", "ORG_USER_MANAGER", "--org-id", org)
    token = run("create-token", "--user-id", bot, "--expires-in-days", "1")
    assert token.startswith("pat_")
    refused = passkeys("grant-role", "--user-id", bot, "--role", "IAM_OWNER", "--org-id", org, env={}, cwd=tmp_path)
    assert refused.wait(timeout=30) == 1

    port = free_port()
    proc = passkeys("serve", env={"PASSKEYS_GRPC_ADDR": f"127.0.0.1:{port}"}, cwd=tmp_path)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            wait_serving(channel)
            stub = pb_grpc.UserServiceStub(channel)
            request = pb.AddHumanUserRequest(
                profile={"given_name": "A", "family_name": "B"},
                email={"email": "a@b.example"},
                organization={"org_id": org},
            )
            added = stub.AddHumanUser(request, metadata=(("authorization", f"Bearer {token}"),))
            assert added.details.resource_owner == org
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
