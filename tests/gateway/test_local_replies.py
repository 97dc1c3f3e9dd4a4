"""Every answer Envoy makes itself (a body the transcoder cannot parse, an unknown path, a wrong
method, a body or headers over the limits) is a google.rpc.Status JSON body with the right HTTP
status, and Envoy writes a JSON access line for each request, without the token or the query."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from google.rpc import status_pb2

from tests.support.gateway import Gateway


def status_of(response: httpx.Response) -> status_pb2.Status:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    # A strict parser: unknown fields or wrong types fail.
    return json_format.Parse(response.text, status_pb2.Status())


def access_lines(capfd: pytest.CaptureFixture[str], count: int) -> list[dict[str, Any]]:
    deadline, lines = time.monotonic() + 5, []
    while time.monotonic() < deadline:
        for line in capfd.readouterr().err.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("logger") == "envoy.access":
                lines.append(entry)
        if len(lines) >= count:
            break
        time.sleep(0.1)
    return lines


def test_envoys_own_answers_are_status_json_and_each_has_an_access_line(
    gw: Gateway, capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    malformed = gw.http.post("/v2/users/human", content=b'{"profile": {', headers={"content-type": "application/json"})
    unknown = gw.http.post("/v2/nothing/here", json={})
    page_path = gw.http.get("/no-such-page")
    wrong_method = gw.http.get("/v2/users/u1/passkeys")
    wrong_method_too = gw.http.request("PUT", "/v2/users/u1/passkeys/_search")
    too_big = gw.http.post(
        "/v2/users/human", content=b"x" * (3 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    headers_too_big = gw.http.post("/v2/users/human", json={}, headers={"x-big": "y" * 70_000})

    expected = [
        (malformed, 400, 3),
        (unknown, 404, 5),
        (page_path, 404, 5),
        (wrong_method, 405, 12),
        (wrong_method_too, 405, 12),
        (too_big, 413, 8),
        (headers_too_big, 431, 8),
    ]
    for response, http_status, code in expected:
        assert response.status_code == http_status, (response.request.url, response.text)
        status = status_of(response)
        assert status.code == code and status.message, response.text
        assert json.loads(response.text)["details"] == []
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_method_too.headers["allow"] == "DELETE, POST"
    assert "takes POST" in status_of(wrong_method).message

    lines = access_lines(capfd, len(expected))
    seen = [(line["method"], line["path"], line["status"]) for line in lines]
    for response, http_status, _ in expected[:-1]:
        request = response.request
        assert (request.method, request.url.path, http_status) in seen, seen
    # Headers over the limit are refused before they are parsed: no method or path to log.
    assert (None, None, 431) in seen
    token = gw.http.headers["authorization"].removeprefix("Bearer ")
    assert not any(token in json.dumps(line) for line in lines)


def test_forwarded_calls_have_an_access_line_without_the_query(gw: Gateway, capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    page = gw.http.get("/passkey/register?userID=1&codeID=2&code=secret-code")
    added = gw.rest(
        "POST", "/v2/users/human", {"profile": {"givenName": "A", "familyName": "B"}, "email": {"email": "a@b.example"}}
    )
    assert page.status_code == 200 and added.status_code == 200
    lines = access_lines(capfd, 2)
    by_path = {line["path"]: line for line in lines}
    assert by_path["/passkey/register"]["status"] == 200
    assert by_path["/v2/users/human"]["status"] == 200 and by_path["/v2/users/human"]["upstream"]
    assert not any("secret-code" in json.dumps(line) for line in lines)


def test_grpc_web_refusals_stay_grpc(gw: Gateway) -> None:
    """The mappers leave gRPC and grpc-web calls alone (their route marks them)."""
    huge = b"\x00" + (8 * 1024 * 1024).to_bytes(4, "big") + b"x" * (8 * 1024 * 1024)
    response = gw.http.post(
        "/zitadel.user.v2.UserService/ListPasskeys",
        content=huge,
        headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1"},
    )
    assert response.status_code == 413
    # Envoy's own refusal as before (the grpc-web filter had not taken the call yet), not JSON.
    assert not response.headers["content-type"].startswith("application/json"), response.text
