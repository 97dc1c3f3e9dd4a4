"""PyPI zitadel-client (ZITADEL's official Python SDK: the Connect protocol, JSON codec, no
Connect-Protocol-Version header) through Envoy: the whole passkey flow and the refusals as the SDK
reports them (ApiError with the HTTP status and Connect's error body)."""

from __future__ import annotations

import re
from typing import Any

from zitadel_client import ApiError, Zitadel, models

from tests.support.client_flow import ADMIN, Call, Refused, check_refusals, passkey_flow
from tests.support.gateway import Gateway

# Connect's HTTP status per code (what the SDK's ApiError.code says).
HTTP_STATUS = {"NOT_FOUND": 404, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "INVALID_ARGUMENT": 400}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def sdk_call(base_url: str, admin_token: str, statuses: list[tuple[str, int]]) -> Call:
    sdks: dict[str, Zitadel] = {}

    def call(method: str, request: dict[str, Any], token: str | None = ADMIN) -> dict[str, Any]:
        token = admin_token if token == ADMIN else token
        assert token is not None, "the SDK always sends a token"
        sdk = sdks.setdefault(token, Zitadel.with_access_token(base_url, token))
        body = getattr(models, f"UserService{method}Request").from_dict(request)
        try:
            answer = getattr(sdk.users, _snake(method))(body)
        except ApiError as error:
            refused = error.response_body
            assert isinstance(refused, dict), refused
            code = refused["code"].upper()
            statuses.append((code, error.code))
            raise Refused.of(code, refused.get("details", []), refused.get("message", "")) from None
        return answer.to_dict()

    return call


def test_the_passkey_flow_and_its_refusals(gw: Gateway, stranger: str) -> None:
    statuses: list[tuple[str, int]] = []
    call = sdk_call(gw.base_url, gw.grpc.admin_token, statuses)
    flow = passkey_flow(call)
    check_refusals(call, user_id=flow.user_id, stranger=stranger)
    assert statuses == [(code, HTTP_STATUS[code]) for code in HTTP_STATUS]
