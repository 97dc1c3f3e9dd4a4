"""Every answer of the passkey flow, over REST and over Connect's JSON codec, parsed the way a strict
client built from ZITADEL's own protos parses it: json_format.Parse into a message class made from
upstream's descriptors (tests/upstream), unknown fields refused (its default, as Go's protojson and
protobuf-es's fromJson)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from google.rpc import code_pb2

from tests.support import upstream
from tests.support.client_flow import ADMIN, Call, Refused, passkey_flow
from tests.support.gateway import Gateway

SERVICE = "zitadel.user.v2.UserService"
METHODS = {
    "AddHumanUser",
    "RegisterPasskey",
    "VerifyPasskeyRegistration",
    "ListPasskeys",
    "CreatePasskeyRegistrationLink",
    "RemovePasskey",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _rest_binding(method: str) -> tuple[str, str, str]:
    """(HTTP verb, path template, body) of upstream's google.api.http rule for the method."""
    options = upstream.pool().FindServiceByName(SERVICE).FindMethodByName(method).GetOptions()
    rule = descriptor_pb2.MethodOptions.FromString(options.SerializeToString()).Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    return verb.upper(), getattr(rule, verb), rule.body


def json_call(gw: Gateway, protocol: str, answers: dict[str, list[str]]) -> Call:
    """The raw HTTP answers of each call are kept in `answers`, by method."""

    def call(method: str, request: dict[str, Any], token: str | None = ADMIN) -> dict[str, Any]:
        headers = {} if token == ADMIN else {"authorization": f"Bearer {token}"}
        if protocol == "rest":
            verb, template, body = _rest_binding(method)
            fields = dict(request)
            path = re.sub(r"\{(\w+)\}", lambda m: fields.pop(_camel(m[1])), template)
            response = gw.http.request(verb, path, json=fields if body == "*" else None, headers=headers)
        else:
            headers |= {"content-type": "application/json", "connect-protocol-version": "1"}
            response = gw.http.post(f"/{SERVICE}/{method}", content=json.dumps(request), headers=headers)
        answer = response.json()
        if response.status_code != 200:
            code = answer["code"] if protocol != "rest" else code_pb2.Code.Name(answer["code"])
            raise Refused(code.upper(), None, answer.get("message", ""))
        answers.setdefault(method, []).append(response.text)
        return answer

    return call


@pytest.mark.parametrize("protocol", ["rest", "connect-json"])
def test_every_answer_parses_strictly_with_upstreams_descriptors(gw: Gateway, protocol: str) -> None:
    answers: dict[str, list[str]] = {}
    passkey_flow(json_call(gw, protocol, answers))
    assert set(answers) == METHODS
    for method, texts in answers.items():
        for text in texts:
            upstream.strict_parse(text, upstream.response_type(SERVICE, method))


@pytest.mark.parametrize("protocol", ["rest", "connect-json"])
def test_list_passkeys_parses_strictly_with_upstreams_descriptors(gw: Gateway, protocol: str) -> None:
    answers: dict[str, list[str]] = {}
    call = json_call(gw, protocol, answers)
    user_id = call("AddHumanUser", {"profile": {"givenName": "A", "familyName": "L"}, "email": {"email": "a@l.org"}})[
        "userId"
    ]
    call("RegisterPasskey", {"userId": user_id})
    assert len(call("ListPasskeys", {"userId": user_id})["result"]) == 1
    # Upstream's Passkey exactly (our creation date moved to passkeys.v1.PasskeyDetailsService).
    upstream.strict_parse(answers["ListPasskeys"][0], upstream.response_type(SERVICE, "ListPasskeys"))
