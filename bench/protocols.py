"""What each protocol adds over direct gRPC: ListPasskeys of a user with one passkey, the same
server and Envoy, every protocol in turn within each round (so that a change of load hits all alike).

    PYTHONPATH=. .venv/bin/python -m bench.protocols [ROUNDS]

Prints a Markdown table: median and p90 latency per call and the median's excess over direct gRPC.
One keep-alive connection per protocol (grpcio for gRPC, httpx over HTTP/1.1 for the others).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import httpx
from google.protobuf import json_format
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from passkeys.config import Settings
from tests.support.gateway import serving
from tests.support.grpc_web import frame, unframe

SERVICE = "/zitadel.user.v2.UserService"


def _calls(gw, user_id: str) -> dict[str, Callable[[], None]]:  # noqa: ANN001 (a tests.support.gateway.Gateway)
    request = pb.ListPasskeysRequest(user_id=user_id)
    binary, text = request.SerializeToString(), json_format.MessageToJson(request)
    auth = [("authorization", f"Bearer {gw.grpc.admin_token}")]
    direct = pb_grpc.UserServiceStub(gw.grpc.channel)
    envoy_channel = grpc.insecure_channel(gw.base_url.removeprefix("http://"))
    through_envoy = pb_grpc.UserServiceStub(envoy_channel)
    http = gw.http

    def check(response: httpx.Response) -> None:
        assert response.status_code == 200, response.text

    def grpc_web() -> None:
        response = http.post(
            f"{SERVICE}/ListPasskeys",
            content=frame(binary),
            headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1"},
        )
        check(response)
        _, trailers = unframe(response.content)
        assert trailers.get("grpc-status", response.headers.get("grpc-status")) == "0"

    connect_json = {"content-type": "application/json", "connect-protocol-version": "1"}
    connect_proto = {"content-type": "application/proto", "connect-protocol-version": "1"}
    return {
        "gRPC, direct": lambda: direct.ListPasskeys(request, metadata=auth),
        "gRPC through Envoy": lambda: through_envoy.ListPasskeys(request, metadata=auth),
        "grpc-web": grpc_web,
        "REST (JSON)": lambda: check(http.post(f"/v2/users/{user_id}/passkeys/_search", content=b"{}")),
        "Connect, JSON": lambda: check(http.post(f"{SERVICE}/ListPasskeys", content=text, headers=connect_json)),
        "Connect, binary": lambda: check(http.post(f"{SERVICE}/ListPasskeys", content=binary, headers=connect_proto)),
    }


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", rp_id="login.example.com", origins=("https://x",)
        )
        with serving(settings) as gw:
            user_id = gw.grpc.add_user()
            gw.grpc.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
            calls = _calls(gw, user_id)
            for call in calls.values():  # warm up every connection
                for _ in range(20):
                    call()
            times: dict[str, list[float]] = {name: [] for name in calls}
            load_before = os.getloadavg()[0]
            for _ in range(rounds):
                for name, call in calls.items():
                    started = time.perf_counter()
                    call()
                    times[name].append((time.perf_counter() - started) * 1000)
            load_after = os.getloadavg()[0]
    base = statistics.median(times["gRPC, direct"])
    print(f"{rounds} ListPasskeys calls per protocol; load average {load_before:.1f} before, {load_after:.1f} after\n")
    print("| protocol | median ms | p90 ms | over direct gRPC (median) |")
    print("|---|---:|---:|---:|")
    for name, samples in times.items():
        median, p90 = statistics.median(samples), statistics.quantiles(samples, n=10)[-1]
        print(f"| {name} | {median:.2f} | {p90:.2f} | {median - base:+.2f} ms |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
