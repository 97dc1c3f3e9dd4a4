"""Prometheus metrics over real HTTP from `passkeys serve`: counts move by exactly the calls
made, and a refused verification is counted with its reason and failed check."""

from __future__ import annotations

import resource
import socket
import time
from pathlib import Path

import grpc
import pytest
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.process import server_process
from tests.support.registration import as_struct, b64decode, options_of
from tests.support.scrape import delta, scrape
from tests.support.servers import _Bearer

SERVICE = "/zitadel.user.v2.UserService/"


def test_calls_latency_and_verification_failures_are_counted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'passkeys.db'}"
    with server_process(url, tmp_path, PASSKEYS_METRICS_ADDR="127.0.0.1:0") as server:
        assert server.metrics_port
        before = scrape(server.metrics_port)
        stub = server.stub
        user_id = stub.AddHumanUser(
            pb.AddHumanUserRequest(profile={"given_name": "A", "family_name": "B"}, email={"email": "a@b.io"})
        ).user_id
        started = stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
        challenge = b64decode(options_of(started)["challenge"])
        auth = SoftAuthenticator()

        def verify(**register: object) -> None:
            credential = auth.register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, **register)
            stub.VerifyPasskeyRegistration(
                pb.VerifyPasskeyRegistrationRequest(
                    user_id=user_id,
                    passkey_id=started.passkey_id,
                    public_key_credential=as_struct(credential),
                    passkey_name="k",
                )
            )

        for _ in range(2):
            with pytest.raises(grpc.RpcError) as err:
                verify(user_verified=False)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        verify()
        with pytest.raises(grpc.RpcError) as err:
            verify()
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        after = scrape(server.metrics_port)

    calls = "passkeys_grpc_calls_total"
    verify_method = SERVICE + "VerifyPasskeyRegistration"
    assert delta(before, after, calls, method=SERVICE + "AddHumanUser", code="OK") == 1
    assert delta(before, after, calls, method=SERVICE + "RegisterPasskey", code="OK") == 1
    assert delta(before, after, calls, method=verify_method, code="INVALID_ARGUMENT") == 2
    assert delta(before, after, calls, method=verify_method, code="OK") == 1
    assert delta(before, after, calls, method=verify_method, code="FAILED_PRECONDITION") == 1
    assert delta(before, after, "passkeys_grpc_call_duration_seconds_count", method=verify_method) == 4
    assert delta(before, after, "passkeys_grpc_call_duration_seconds_sum", method=verify_method) > 0
    # Every observation lands in the +Inf bucket, and the histogram's buckets are cumulative.
    inf = delta(before, after, "passkeys_grpc_call_duration_seconds_bucket", method=verify_method, le="+Inf")
    assert inf == 4
    failures = "passkeys_verification_failures_total"
    assert delta(before, after, failures, reason="CREDENTIAL_REJECTED", check="user_verification") == 2
    assert delta(before, after, failures, reason="PASSKEY_ALREADY_VERIFIED", check="") == 1
    assert (
        sum(v for (n, _), v in after.items() if n == failures) - sum(v for (n, _), v in before.items() if n == failures)
        == 3
    )


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'passkeys.db'}"
    with server_process(url, tmp_path, PASSKEYS_METRICS_ADDR="") as server:
        serving = next(line for line in server.log_lines() if line.get("msg") == "serving")
        assert "metrics_addr" not in serving
        assert server.metrics_port == 0


def _closed(connection: socket.socket) -> bool:
    # Closed when silent too long, or at once (a reset, maybe) beyond the connection cap.
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


def _silent_connections(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]


def test_idle_metrics_connections_are_closed_and_250_of_them_leave_grpc_served(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'passkeys.db'}"
    with server_process(url, tmp_path, PASSKEYS_METRICS_ADDR="127.0.0.1:0") as server:
        assert server.proc is not None
        # As few descriptors as the review's `ulimit -n 256`.
        resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (256, 256))
        # One that sent half a request is closed too.
        half = socket.create_connection(("127.0.0.1", server.metrics_port), timeout=10)
        half.sendall(b"GET /metrics HTTP/1.1\r\n")
        idle = _silent_connections(server.metrics_port, 250)
        try:
            # New gRPC connections are served meanwhile.
            for _ in range(20):
                channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
                try:
                    stub = pb_grpc.UserServiceStub(grpc.intercept_channel(channel, _Bearer(server.admin_token)))
                    stub.ListPasskeys(pb.ListPasskeysRequest(user_id="1"), timeout=5)
                except grpc.RpcError as exc:
                    assert exc.code() == grpc.StatusCode.NOT_FOUND, exc
                finally:
                    channel.close()
            started = time.monotonic()
            assert half.recv(1) == b""  # closed by the server
            for connection in idle:
                assert _closed(connection)
            waited = time.monotonic() - started
            assert waited < 8
            # And /metrics still answers.
            assert scrape(server.metrics_port)
        finally:
            for connection in [*idle, half]:
                connection.close()
