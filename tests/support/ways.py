"""One unary call of any service over each way in: gRPC to the server, gRPC through Envoy,
grpc-web, JSON REST and Connect JSON; the answer, or the error's code and ErrorInfo, alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.client_flow import b64decode
from tests.support.gateway import Gateway

WAYS = ["grpc", "grpc-via-envoy", "grpc-web", "rest", "connect-json"]
# Connect's code names ("invalid_argument") to gRPC code numbers.
_CONNECT_CODES = {code.name.lower(): code.value[0] for code in grpc.StatusCode}


@dataclass
class Answer:
    code: int  # the gRPC code number; 0 for OK
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    message: Any = None  # the response message on OK
    body: dict[str, Any] | None = None  # the JSON body on OK (REST and Connect)


def _info(info: error_details_pb2.ErrorInfo | None, code: int) -> Answer:
    return Answer(code, info.reason, dict(info.metadata)) if info else Answer(code)


def _grpc(gw: Gateway, way: str, path: str, request: Message, out: type[Message], headers: dict[str, str]) -> Answer:
    port = gw.grpc.port if way == "grpc" else int(gw.base_url.rsplit(":", 1)[1])
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(
            path, request_serializer=type(request).SerializeToString, response_deserializer=out.FromString
        )
        try:
            return Answer(0, message=call(request, metadata=list(headers.items()), timeout=10))
        except grpc.RpcError as error:
            status = rpc_status.from_call(error)  # type: ignore[arg-type]
            info = error_details_pb2.ErrorInfo()
            found = status is not None and status.details and status.details[0].Unpack(info)
            return _info(info if found else None, error.code().value[0])  # type: ignore[attr-defined]


def call(
    gw: Gateway,
    way: str,
    service: str,
    method: str,
    request: Message,
    out: type[Message],
    *,
    token: str | None,
    rest: tuple[str, str, dict[str, Any]],
) -> Answer:
    """`rest` is (HTTP method, path, body) of the method's REST binding."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if way in ("grpc", "grpc-via-envoy"):
        return _grpc(gw, way, f"/{service}/{method}", request, out, headers)
    headers = headers or {"authorization": ""}  # replaces the admin's default header
    if way == "grpc-web":
        reply = gw.grpc_web(method, request, headers=headers, service_path=f"/{service}")
        if reply.code == 0:
            return Answer(0, message=out.FromString(reply.messages[0]) if reply.messages else out())
        return _info(reply.error_info(), reply.code)
    if way == "rest":
        verb, path, body = rest
        response = gw.rest(verb, path, body, headers=headers)
        answer = response.json()
        if response.status_code != 200:
            infos = [d for d in answer.get("details", []) if d.get("@type", "").endswith("google.rpc.ErrorInfo")]
            info = json_format.ParseDict(
                {k: v for k, v in infos[0].items() if k != "@type"}, error_details_pb2.ErrorInfo()
            )
            return _info(info, answer["code"])
    else:
        response = gw.http.post(
            f"/{service}/{method}",
            content=json_format.MessageToJson(request),
            headers={"content-type": "application/json", "connect-protocol-version": "1", **headers},
        )
        answer = response.json()
        if response.status_code != 200:
            code = _CONNECT_CODES[answer["code"]]
            for detail in answer.get("details", []):
                if detail["type"].endswith("google.rpc.ErrorInfo"):
                    return _info(error_details_pb2.ErrorInfo.FromString(b64decode(detail["value"])), code)
            return Answer(code)
    return Answer(0, message=json_format.ParseDict(answer, out()), body=answer)
