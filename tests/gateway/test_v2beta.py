"""zitadel.user.v2beta.UserService through the real Envoy to the real server (SQLite and
PostgreSQL), on every way in: gRPC, grpc-web, JSON REST at upstream's /v2beta/... paths and Connect
JSON; each JSON answer parsed strictly with upstream's own v2beta descriptors."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import grpc
import pytest
from google.api import annotations_pb2
from google.protobuf import any_pb2, descriptor_pb2, json_format
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status
from zitadel import message_pb2
from zitadel.user.v2 import user_service_pb2 as v2
from zitadel.user.v2beta import user_service_pb2 as pb
from zitadel.user.v2beta import user_service_pb2_grpc as pb_grpc

from passkeys.config import Settings
from tests.support import upstream
from tests.support.client_flow import ADMIN, Call, Refused, check_v2beta_refusals, stranger_token, v2beta_flow
from tests.support.gateway import Gateway

SERVICE = "zitadel.user.v2beta.UserService"
WAYS = ["grpc", "grpc-web", "rest", "connect-json"]
# Detail types a REST error body may hold (imported so json_format can read them).
DETAIL_TYPES = (error_details_pb2.ErrorInfo, message_pb2.ErrorDetail)
CONNECT_CODES = {"not_found", "unauthenticated", "permission_denied", "invalid_argument"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _rest_binding(method: str) -> tuple[str, str]:
    """(HTTP verb, path template) of upstream's google.api.http rule (every one has body "*")."""
    options = upstream.pool().FindServiceByName(SERVICE).FindMethodByName(method).GetOptions()
    rule = descriptor_pb2.MethodOptions.FromString(options.SerializeToString()).Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    assert rule.body == "*"
    return verb.upper(), getattr(rule, verb)


def _status_details(raw: bytes) -> list[dict[str, str]]:
    return [{"type": "google.rpc.Status", "value": base64.b64encode(raw).decode()}]


def v2beta_call(gw: Gateway, way: str) -> Call:
    """One v2beta RPC as proto3 JSON in and out over `way`; JSON answers parsed strictly first."""

    def call(method: str, request: dict[str, Any], token: str | None = ADMIN) -> dict[str, Any]:
        token = gw.grpc.admin_token if token == ADMIN else token
        auth = {"authorization": f"Bearer {token}"} if token else {"authorization": ""}
        message = json_format.ParseDict(request, getattr(pb, f"{method}Request")())
        response_type = getattr(pb, f"{method}Response")
        if way == "grpc":
            stub = pb_grpc.UserServiceStub(gw.grpc.channel)
            try:
                answer = getattr(stub, method)(message, metadata=[("authorization", auth["authorization"])], timeout=10)
            except grpc.RpcError as error:
                status = rpc_status.from_call(error)
                details = _status_details(status.SerializeToString()) if status else []
                raise Refused.of(error.code().name, details, error.details()) from None
            return json_format.MessageToDict(answer)
        if way == "grpc-web":
            reply = gw.grpc_web(method, message, headers=auth, service_path=f"/{SERVICE}")
            if reply.code != 0:
                details = _status_details(reply.status().SerializeToString())
                raise Refused.of(code_pb2.Code.Name(reply.code), details, reply.message)
            return json_format.MessageToDict(response_type.FromString(reply.messages[0]))
        if way == "rest":
            verb, template = _rest_binding(method)
            fields = dict(request)
            path = re.sub(r"\{(\w+)\}", lambda m: fields.pop(_camel(m[1])), template)
            response = gw.http.request(verb, path, json=fields, headers=auth)
        else:
            headers = {"content-type": "application/json", "connect-protocol-version": "1", **auth}
            response = gw.http.post(f"/{SERVICE}/{method}", content=json.dumps(request), headers=headers)
        answer = response.json()
        if response.status_code != 200:
            if way == "rest":
                details = [
                    {"type": d["@type"], "value": base64.b64encode(_any_value(d)).decode()} for d in answer["details"]
                ]
                raise Refused.of(code_pb2.Code.Name(answer["code"]), details, answer["message"])
            assert answer["code"] in CONNECT_CODES, answer
            raise Refused.of(answer["code"].upper(), answer.get("details", []), answer.get("message", ""))
        upstream.strict_parse(response.text, upstream.response_type(SERVICE, method))
        return answer

    return call


def _any_value(detail: dict[str, Any]) -> bytes:
    """A REST error detail (google.protobuf.Any as JSON) back to its message bytes."""
    packed = json_format.ParseDict(detail, any_pb2.Any())
    return packed.value


@pytest.fixture
def stranger(gw: Gateway, settings: Settings) -> str:
    return stranger_token(settings)


@pytest.mark.parametrize("way", WAYS)
def test_the_v2beta_flow_and_its_refusals(gw: Gateway, way: str, stranger: str) -> None:
    call = v2beta_call(gw, way)
    flow = v2beta_flow(call)
    check_v2beta_refusals(call, user_id=flow.user_id, stranger=stranger)
    # One implementation: v2 sees what v2beta made.
    listed = gw.grpc.stub.ListPasskeys(v2.ListPasskeysRequest(user_id=flow.user_id)).result
    assert [(p.id, p.name, p.state) for p in listed][:1] == [(flow.passkey_id, "Laptop", 2)]
