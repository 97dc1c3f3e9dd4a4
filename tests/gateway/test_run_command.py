"""`passkeys run` (what `make run` calls) as a user starts it: gRPC and Envoy together, where
each listens, both stopped on Ctrl-C, and a failure of either reported with a non-zero exit."""

from __future__ import annotations

import json
import re
import signal
import socket
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from passkeys.gateway import admin_request
from tests.support.gateway import HEADERS
from tests.support.run import READY, Run

LOOPBACK_PORTS = {
    "PASSKEYS_GRPC_ADDR": "127.0.0.1:0",
    "PASSKEYS_HTTP_ADDR": "127.0.0.1:0",
    "PASSKEYS_METRICS_ADDR": "127.0.0.1:0",
}


def refused(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return True
    return False


def test_run_serves_rest_grpc_web_and_grpc_then_stops_both_on_ctrl_c(tmp_path: Path) -> None:
    run = Run(tmp_path, LOOPBACK_PORTS)
    try:
        grpc_addr, http_addr = run.wait_for(READY).groups()
        serving = json.loads(next(line for line in run.seen if '"msg": "serving"' in line))
        assert (serving["grpc_addr"], serving["http_addr"]) == (grpc_addr, http_addr)

        # The page's working address (WebAuthn needs localhost, not 127.0.0.1), and the admin
        # token that this first start wrote, where a new user finds it.
        http_port = http_addr.rpartition(":")[2]
        run.wait_for(re.compile(re.escape(f"passkeys: the enrolment page: http://localhost:{http_port}/")))
        where = run.wait_for(re.compile(r"passkeys: the admin token: (\S+) \((.*)\)"))
        assert where.groups() == (str(tmp_path / "data" / "admin.pat"), "created by this start")
        token = (tmp_path / "data" / "admin.pat").read_text().strip()
        auth = {"authorization": f"Bearer {token}"}
        added = httpx.post(
            f"http://{http_addr}/v2/users/human",
            json={"profile": {"givenName": "A", "familyName": "B"}, "email": {"email": "a@b.example"}},
            headers={**HEADERS, **auth},
        )
        assert added.status_code == 200
        assert added.json()["details"]["sequence"] == "1"
        # The enrolment page on the same address.
        page = httpx.get(f"http://{http_addr}/")
        assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
        assert "Add a passkey" in page.text
        # gRPC works directly and through Envoy, on the same data.
        for address in (grpc_addr, http_addr):
            with grpc.insecure_channel(address) as channel:
                health = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service="zitadel.user.v2.UserService"), timeout=5
                )
                assert health.status == health_pb2.HealthCheckResponse.SERVING
                listed = pb_grpc.UserServiceStub(channel).ListPasskeys(
                    pb.ListPasskeysRequest(user_id=added.json()["userId"]),
                    timeout=5,
                    metadata=tuple(auth.items()),
                )
                assert listed.details.processed_sequence == 1

        run.proc.send_signal(signal.SIGINT)
        code, err = run.finish()
    finally:
        run.kill()
    assert code == 0, err
    assert '"msg": "shutting down"' in err
    assert refused(grpc_addr) and refused(http_addr)
    assert (tmp_path / "data" / "passkeys.db").is_file()


def test_an_occupied_http_port_is_reported_and_nothing_keeps_running(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = Run(tmp_path, {**LOOPBACK_PORTS, "PASSKEYS_HTTP_ADDR": f"127.0.0.1:{port}"})
        try:
            code, err = run.finish()
        finally:
            run.kill()
    assert code == 1
    assert "passkeys: cannot start: envoy exited" in err
    assert "Address already in use" in err


def test_an_occupied_grpc_port_is_reported_before_envoy_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = Run(tmp_path, {**LOOPBACK_PORTS, "PASSKEYS_GRPC_ADDR": f"127.0.0.1:{port}"})
        try:
            code, err = run.finish()
        finally:
            run.kill()
    assert code == 1
    assert f"passkeys: cannot start: cannot listen on 127.0.0.1:{port}" in err
    assert "envoy" not in err


def test_a_missing_envoy_binary_is_reported(tmp_path: Path) -> None:
    run = Run(tmp_path, {**LOOPBACK_PORTS, "PASSKEYS_ENVOY_BIN": str(tmp_path / "no-envoy")})
    try:
        code, err = run.finish()
    finally:
        run.kill()
    assert code == 1
    assert "PASSKEYS_ENVOY_BIN" in err


def test_when_envoy_stops_on_its_own_the_service_stops_and_says_so(tmp_path: Path) -> None:
    run = Run(tmp_path, LOOPBACK_PORTS)
    try:
        grpc_addr, _ = run.wait_for(READY).groups()
        admin = json.loads(next(line for line in run.seen if '"msg": "serving"' in line))["envoy_admin"]
        assert admin_request(Path(admin), "/quitquitquit", "POST")[0] == 200
        code, err = run.finish()
    finally:
        run.kill()
    assert code == 1
    assert '"msg": "envoy stopped on its own"' in err
    assert refused(grpc_addr)


def test_a_second_start_says_the_admin_token_is_an_earlier_starts(tmp_path: Path) -> None:
    for made in ("created by this start", "written by an earlier start"):
        run = Run(tmp_path, LOOPBACK_PORTS)
        try:
            run.wait_for(READY)
            assert run.wait_for(re.compile(r"passkeys: the admin token: \S+ \((.*)\)")).group(1) == made
            run.proc.send_signal(signal.SIGINT)
            assert run.finish()[0] == 0
        finally:
            run.kill()
