"""What an organization's manager can learn about other organizations from AddHumanUser: nothing
(SQLite and PostgreSQL, the real server). Usernames are unique within an organization, and every
login name (`username@organization-domain`) names one user; a taken user id is answered alike
whoever holds it. Nothing is stored on any refusal (whole-database snapshots)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import grpc
import pytest
from zitadel.session.v2 import session_service_pb2 as spb
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.auth.permissions import ORG_USER_MANAGER
from passkeys.commands import admin
from passkeys.details import now
from passkeys.errors import InvalidArgument
from passkeys.store.db import Database
from tests.support.databases import snapshot
from tests.support.refusals import error_info, reason_of
from tests.support.servers import Client

PROFILE = {"given_name": "Ada", "family_name": "Lovelace"}


def _org_and_manager(client: Client) -> tuple[str, str, _Manager]:
    """A new organization, its domain, and a machine user managing its users."""
    db = Database(client.url)
    domain = f"o{secrets.token_hex(4)}.example"
    try:
        with db.write() as uow:
            org = admin.create_org(uow, name="org", domain=domain)
            uid = admin.create_machine_user(uow, org_id=org, name=f"m{secrets.token_hex(4)}")
            admin.grant_role(uow, user_id=uid, role=ORG_USER_MANAGER, org_id=org)
            token = admin.create_token(uow, user_id=uid, expires_at=now() + timedelta(hours=1)).token
    finally:
        db.dispose()
    return org, domain, _Manager(client.stub_for(token), org)


class _Manager:
    """AddHumanUser as the manager, into its organization."""

    def __init__(self, stub: Any, org_id: str) -> None:
        self.stub, self.org_id = stub, org_id

    def AddHumanUser(self, request: pb.AddHumanUserRequest) -> pb.AddHumanUserResponse:
        request.organization.org_id = self.org_id
        return self.stub.AddHumanUser(request)


def _add(stub: _Manager, **fields: object) -> pb.AddHumanUserResponse:
    request = pb.AddHumanUserRequest(**({"profile": PROFILE, "email": {"email": "ada@example.com"}} | fields))
    return stub.AddHumanUser(request)


def _refused(client: Client, stub: _Manager, **fields: object) -> grpc.RpcError:
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as failed:
        _add(stub, **fields)
    assert snapshot(client.url) == before
    return failed.value


def test_a_username_of_another_organization_is_free_in_ones_own(client: Client) -> None:
    org_a, _, token_a = _org_and_manager(client)
    org_b, _, token_b = _org_and_manager(client)
    in_b = _add(token_b)
    in_a = _add(token_a)  # the same email, so the same username: not an oracle
    assert (in_a.details.resource_owner, in_b.details.resource_owner) == (org_a, org_b)
    # Within one organization a username is still one user.
    taken = _refused(client, token_a, email={"email": "ADA@example.com"})
    assert (taken.code(), reason_of(taken)) == (grpc.StatusCode.ALREADY_EXISTS, "USERNAME_TAKEN")


def test_a_taken_user_id_is_answered_alike_whoever_holds_it(client: Client) -> None:
    _, _, token_a = _org_and_manager(client)
    org_b, domain_b, token_b = _org_and_manager(client)
    theirs = _add(token_b, username="grace", email={"email": "grace@b.example"}).user_id
    ours = _add(token_a, username="alan", email={"email": "alan@a.example"}).user_id
    as_a = token_a
    foreign = _refused(client, as_a, user_id=theirs, email={"email": "x1@a.example"})
    own = _refused(client, as_a, user_id=ours, email={"email": "x2@a.example"})
    assert (
        (foreign.code(), reason_of(foreign))
        == (own.code(), reason_of(own))
        == (
            grpc.StatusCode.ALREADY_EXISTS,
            "USER_EXISTS",
        )
    )
    assert foreign.details().replace(theirs, "<id>") == own.details().replace(ours, "<id>")
    assert error_info(foreign).metadata == {**error_info(own).metadata, "user_id": theirs}
    for leak in (org_b, domain_b, "grace"):
        assert leak not in foreign.details() and leak not in str(error_info(foreign).metadata)


def test_every_login_name_names_one_user(client: Client) -> None:
    _, domain_a, token_a = _org_and_manager(client)
    _, domain_b, token_b = _org_and_manager(client)
    in_a = _add(token_a).user_id
    in_b = _add(token_b).user_id
    for user_id, domain in ((in_a, domain_a), (in_b, domain_b)):
        got = client.stub.GetUserByID(pb.GetUserByIDRequest(user_id=user_id)).user
        login_name = f"ada@example.com@{domain}"
        assert (list(got.login_names), got.preferred_login_name) == ([login_name], login_name)

    sessions = client.sessions_for(client.admin_token)

    def signs_in(login_name: str) -> str:
        created = sessions.CreateSession(spb.CreateSessionRequest(checks={"user": {"login_name": login_name}}))
        user = sessions.GetSession(spb.GetSessionRequest(session_id=created.session_id)).session.factors.user
        return f"{user.id} {user.login_name}"

    assert signs_in(f"ada@example.com@{domain_a}") == f"{in_a} ada@example.com@{domain_a}"
    assert signs_in(f"Ada@Example.com@{domain_b.upper()}") == f"{in_b} ada@example.com@{domain_b}"
    # The bare username names two users here: refused, naming the form that works.
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as ambiguous:
        sessions.CreateSession(spb.CreateSessionRequest(checks={"user": {"login_name": "ada@example.com"}}))
    assert (ambiguous.value.code(), error_info(ambiguous.value).metadata["field"]) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "checks.user.login_name",
    )
    assert "username@organization-domain" in ambiguous.value.details()
    assert snapshot(client.url) == before
    # A username that one user holds still signs in bare.
    solo = _add(token_a, username="turing", email={"email": "alan@a.example"}).user_id
    assert signs_in("turing") == f"{solo} turing@{domain_a}"


def test_an_organization_domain_holds_no_at_sign(client: Client) -> None:
    # Login names split at their last '@': a domain with one would make them ambiguous.
    before = snapshot(client.url)
    db = Database(client.url)
    try:
        with pytest.raises(InvalidArgument), db.write() as uow:
            admin.create_org(uow, name="odd", domain="ada@example.com")
    finally:
        db.dispose()
    assert snapshot(client.url) == before
