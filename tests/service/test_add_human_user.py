"""AddHumanUser against the real server (SQLite and PostgreSQL): every upstream field either works or
is refused with INVALID_ARGUMENT naming it, upstream's validation bounds (its protoc-gen-validate
rules), and nothing stored on any refusal. CreatePasskeyRegistrationLink's send_link bounds too."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import create_engine, text
from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.databases import snapshot
from tests.support.servers import Client

PROFILE = {"given_name": "Ada", "family_name": "Lovelace"}
EMAIL = {"email": "ada@example.com"}

# Upstream fields we do not implement: (request fields, the field named in the refusal).
UNSUPPORTED = [
    ({"phone": {"phone": "+41791234567"}}, "phone"),
    ({"phone": {}}, "phone"),
    ({"password": {"password": "Secr3t!pass"}}, "password"),
    ({"hashed_password": {"hash": "$2a$10$abc"}}, "hashed_password"),
    ({"totp_secret": "TJOPWSDYILLHXFV4MLKNNJOWFG7VSDCK"}, "totp_secret"),
    ({"metadata": [{"key": "k", "value": b"v"}]}, "metadata"),
    ({"idp_links": [{"idp_id": "i", "user_id": "u", "user_name": "n"}]}, "idp_links"),
    ({"email": {**EMAIL, "send_code": {}}}, "email.send_code"),
    ({"email": {**EMAIL, "send_code": {"url_template": "https://x.example/{{.Code}}"}}}, "email.send_code"),
    ({"email": {**EMAIL, "return_code": {}}}, "email.return_code"),
]

# Upstream's bounds: (request fields, the field named in the refusal).
OUT_OF_BOUNDS = [
    ({"user_id": ""}, "user_id"),
    ({"user_id": "u" * 201}, "user_id"),
    ({"username": ""}, "username"),
    ({"username": "u" * 201}, "username"),
    ({"profile": {**PROFILE, "given_name": ""}}, "profile.given_name"),
    ({"profile": {**PROFILE, "family_name": "f" * 201}}, "profile.family_name"),
    ({"profile": {**PROFILE, "nick_name": "n" * 201}}, "profile.nick_name"),
    ({"profile": {**PROFILE, "display_name": "d" * 201}}, "profile.display_name"),
    ({"profile": {**PROFILE, "preferred_language": "de-CH-1901x"}}, "profile.preferred_language"),
    ({"profile": {**PROFILE, "preferred_language": "not a tag"}}, "profile.preferred_language"),
    ({"profile": {**PROFILE, "gender": 7}}, "profile.gender"),
    ({"email": {"email": "a" * 190 + "@example.com"}}, "email.email"),
    ({"email": {"email": "no-at-sign"}}, "email.email"),
]


def add(**fields: Any) -> pb.AddHumanUserRequest:
    return pb.AddHumanUserRequest(**({"profile": PROFILE, "email": EMAIL} | fields))


def refused_field(client: Client, request: Any, call: str = "AddHumanUser") -> str:
    """The field an INVALID_ARGUMENT names (ErrorInfo metadata), after checking nothing changed."""
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as err:
        getattr(client.stub, call)(request)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    assert snapshot(client.url) == before
    info = error_details_pb2.ErrorInfo()
    assert rpc_status.from_call(err.value).details[0].Unpack(info)
    assert info.metadata["field"] in err.value.details()
    return info.metadata["field"] + " " + info.reason


@pytest.mark.parametrize(("fields", "field"), UNSUPPORTED, ids=[f for _, f in UNSUPPORTED])
def test_an_upstream_field_we_do_not_implement_is_refused_by_name(client: Client, fields: dict, field: str) -> None:
    assert refused_field(client, add(**fields)) == f"{field} UNSUPPORTED_FIELD"


@pytest.mark.parametrize(("fields", "field"), OUT_OF_BOUNDS, ids=[f"{f}-{i}" for i, (_, f) in enumerate(OUT_OF_BOUNDS)])
def test_upstreams_bounds_are_applied(client: Client, fields: dict, field: str) -> None:
    assert refused_field(client, add(**fields)) == f"{field} INVALID_FIELD"


def test_the_upstream_profile_fields_we_take_are_kept(client: Client) -> None:
    profile = {**PROFILE, "nick_name": "n" * 200, "display_name": "d" * 200, "preferred_language": "de-CH", "gender": 3}
    user_id = client.stub.AddHumanUser(
        add(profile=profile, email={**EMAIL, "is_verified": True}, user_id="u" * 200, username="a" * 200)
    ).user_id
    assert user_id == "u" * 200
    engine = create_engine(client.url)
    try:
        with engine.connect() as conn:
            (payload,) = conn.execute(
                text("SELECT payload FROM events WHERE user_id = :id AND type = 'user.human.added'"), {"id": user_id}
            ).scalars()
            (display,) = conn.execute(text("SELECT display_name FROM users WHERE id = :id"), {"id": user_id}).scalars()
    finally:
        engine.dispose()
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    assert payload["nick_name"] == "n" * 200
    assert (payload["preferred_language"], payload["gender"], payload["email_verified"]) == ("de-CH", 3, True)
    assert display == "d" * 200
    # Empty optional texts are upstream's "none": accepted.
    client.stub.AddHumanUser(
        add(profile={**PROFILE, "nick_name": "", "preferred_language": ""}, email={"email": "b@example.com"})
    )


@pytest.mark.parametrize("template", ["", "https://x.example/" + "a" * 183])
def test_a_send_link_template_set_empty_or_too_long_is_refused(client: Client, template: str) -> None:
    user_id = client.add_user()
    assert len(template) in (0, 201)
    request = pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, send_link={"url_template": template})
    assert refused_field(client, request, "CreatePasskeyRegistrationLink") == "send_link.url_template INVALID_FIELD"
    # Unset, it is the configured template.
    client.stub.CreatePasskeyRegistrationLink(pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, send_link={}))
