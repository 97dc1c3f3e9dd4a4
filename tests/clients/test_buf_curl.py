"""buf curl (PyPI buf-bin) against Envoy's port over Connect, gRPC and grpc-web, with upstream's own
schema (tests/upstream/zitadel.binpb): the passkey flow and the refusals. And reflection through
Envoy, as grpcurl and buf curl use it: a stream that stays open, answered at once."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2

from tests.support import upstream
from tests.support.client_flow import ADMIN, Call, Refused, check_refusals, passkey_flow
from tests.support.gateway import Gateway

BUF = str(Path(sys.executable).with_name("buf"))
SERVICES = {
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "zitadel.session.v2.SessionService",
    "zitadel.user.v2.UserService",
    "zitadel.user.v2beta.UserService",
    "passkeys.v1.PasskeyDetailsService",
}


def buf_curl(protocol: str, base_url: str, admin_token: str) -> Call:
    def call(method: str, request: dict[str, Any], token: str | None = ADMIN) -> dict[str, Any]:
        args = [
            BUF,
            "curl",
            "--protocol",
            protocol,
            "--schema",
            str(upstream.DESCRIPTOR_SET),
            "-d",
            json.dumps(request),
        ]
        if protocol == "grpc":
            args.append("--http2-prior-knowledge")
        if token is not None:
            args += ["-H", f"authorization: Bearer {admin_token if token == ADMIN else token}"]
        done = subprocess.run(
            [*args, f"{base_url}/zitadel.user.v2.UserService/{method}"], capture_output=True, text=True, timeout=60
        )
        if done.returncode == 0:
            return json.loads(done.stdout)
        error = json.loads(done.stderr)  # buf curl prints an error as Connect's error JSON, on stderr
        raise Refused.of(error["code"].upper(), error.get("details", []), error.get("message", ""))

    return call


@pytest.mark.parametrize("protocol", ["connect", "grpc", "grpcweb"])
def test_the_passkey_flow_and_its_refusals(gw: Gateway, stranger: str, protocol: str) -> None:
    call = buf_curl(protocol, gw.base_url, gw.grpc.admin_token)
    flow = passkey_flow(call)
    check_refusals(call, user_id=flow.user_id, stranger=stranger)


def test_buf_curl_lists_every_service_and_method_by_reflection_through_envoy(gw: Gateway) -> None:
    listed = subprocess.run(
        [BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", gw.base_url],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert listed.returncode == 0, listed.stderr
    methods = set(listed.stdout.split())
    assert {m.rpartition("/")[0] for m in methods} == SERVICES
    assert "zitadel.user.v2.UserService/VerifyPasskeyRegistration" in methods


def _open_stream(requests: queue.Queue[reflection_pb2.ServerReflectionRequest | None]) -> Iterator[Any]:
    while (request := requests.get()) is not None:
        yield request


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_reflection_answers_through_envoy_while_the_stream_stays_open(gw: Gateway, version: str) -> None:
    """grpcurl keeps the reflection stream open while it reads the answer: Envoy must not wait for
    the end of the request body (it waited two minutes when every gRPC body was buffered)."""
    requests: queue.Queue[reflection_pb2.ServerReflectionRequest | None] = queue.Queue()
    with grpc.insecure_channel(gw.base_url.removeprefix("http://")) as channel:
        info = channel.stream_stream(
            f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        answers = info(_open_stream(requests), timeout=30)
        started = time.monotonic()
        requests.put(reflection_pb2.ServerReflectionRequest(list_services=""))
        listed = next(answers)
        elapsed = time.monotonic() - started
        requests.put(reflection_pb2.ServerReflectionRequest(file_containing_symbol="zitadel.user.v2.UserService"))
        described = next(answers)
        requests.put(None)
    assert {s.name for s in listed.list_services_response.service} == SERVICES
    assert described.file_descriptor_response.file_descriptor_proto
    assert elapsed < 1.0, f"the first answer took {elapsed:.1f} s"
