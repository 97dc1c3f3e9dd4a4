"""One id space for human and machine users, against the real server (SQLite and PostgreSQL): an id
held by either is refused for the other (AddHumanUser's caller-chosen user_id, the CLI's
create-machine-user --user-id), and a JWT whose `sub` is a machine user's id never acts with that
machine user's grants. Nothing is stored on any refusal (whole-database snapshots)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from sqlalchemy import create_engine, text
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.auth.permissions import ORG_USER_MANAGER
from passkeys.commands import admin
from passkeys.config import Settings
from passkeys.details import now
from passkeys.store.db import Database
from tests.support.databases import snapshot
from tests.support.oidc import Issuer, accepting
from tests.support.refusals import reason_of
from tests.support.servers import Client, running

PROFILE = {"given_name": "Ada", "family_name": "Lovelace"}


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[Client, Issuer]]:
    """The server, accepting the JWTs of a test issuer."""
    issuer = Issuer.create(tmp_path)
    with running(accepting(settings, issuer)) as client:
        yield client, issuer


def _scalar(url: str, sql: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def _admin_id(client: Client) -> str:
    return _scalar(client.url, "SELECT id FROM machine_users WHERE name = 'admin'")


def _default_org(client: Client) -> str:
    return _scalar(client.url, "SELECT org_id FROM machine_users WHERE name = 'admin'")


def _manager(client: Client, org_id: str) -> tuple[str, str]:
    """A machine user with ORG_USER_MANAGER on `org_id`: (its id, its token)."""
    db = Database(client.url)
    try:
        with db.write() as uow:
            uid = admin.create_machine_user(uow, org_id=org_id, name=f"m{secrets.token_hex(4)}")
            admin.grant_role(uow, user_id=uid, role=ORG_USER_MANAGER, org_id=org_id)
            return uid, admin.create_token(uow, user_id=uid, expires_at=now() + timedelta(hours=1)).token
    finally:
        db.dispose()


def _refused(client: Client, call: object, request: object) -> grpc.RpcError:
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as failed:
        call(request)  # type: ignore[operator]
    assert snapshot(client.url) == before
    return failed.value


def test_a_manager_cannot_give_a_human_the_instance_owners_id(served: tuple[Client, Issuer]) -> None:
    client, issuer = served
    owner = _admin_id(client)
    _, token = _manager(client, _default_org(client))
    as_manager = client.stub_for(token)
    taken = _refused(
        client,
        as_manager.AddHumanUser,
        pb.AddHumanUserRequest(user_id=owner, profile=PROFILE, email={"email": "mallory@example.com"}),
    )
    assert (taken.code(), reason_of(taken)) == (grpc.StatusCode.ALREADY_EXISTS, "USER_EXISTS")
    # The answer is the one for any taken id: it does not say that a machine user holds it.
    human = client.add_user()
    other = _refused(
        client,
        as_manager.AddHumanUser,
        pb.AddHumanUserRequest(user_id=human, profile=PROFILE, email={"email": "trudy@example.com"}),
    )
    assert (other.code(), reason_of(other)) == (taken.code(), "USER_EXISTS")
    assert other.details().replace(human, "<id>") == taken.details().replace(owner, "<id>")

    # A JWT whose sub is the owner's id acts as nobody, let alone with IAM_OWNER.
    with pytest.raises(grpc.RpcError) as as_owner:
        client.stub_for(issuer.token(owner)).AddHumanUser(
            pb.AddHumanUserRequest(profile=PROFILE, email={"email": "eve@example.com"})
        )
    assert as_owner.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_human_sharing_a_machine_users_id_from_before_the_rule_gets_no_grants(served: tuple[Client, Issuer]) -> None:
    client, issuer = served
    owner, org = _admin_id(client), _default_org(client)
    # Written past the use case, as a database from before one id space could hold it.
    db = Database(client.url)
    try:
        with db.write() as uow:
            uow.users.add(
                user_id=owner,
                org_id=org,
                username="twin",
                given_name="T",
                family_name="W",
                display_name="T W",
                email="twin@example.com",
                at=now(),
            )
    finally:
        db.dispose()
    as_twin = client.stub_for(issuer.token(owner))
    refusal = _refused(
        client, as_twin.AddHumanUser, pb.AddHumanUserRequest(profile=PROFILE, email={"email": "eve@example.com"})
    )
    assert (refusal.code(), reason_of(refusal)) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


def _cli(client: Client, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSKEYS_")}
    env |= {"PASSKEYS_DATABASE_URL": client.url, "PASSKEYS_ADMIN_PAT_PATH": str(cwd / "admin.pat")}
    return subprocess.run([sys.executable, "-m", "passkeys", *args], env=env, cwd=cwd, capture_output=True, text=True)


def test_the_cli_refuses_a_machine_user_id_a_human_holds(client: Client, tmp_path: Path) -> None:
    org, human = _default_org(client), client.add_user()
    before = snapshot(client.url)
    taken = _cli(client, tmp_path, "create-machine-user", "--org-id", org, "--name", "bot", "--user-id", human)
    assert taken.returncode == 1 and "already exists" in taken.stderr, taken.stderr
    assert human not in taken.stderr.replace(f"{human!r}", "")  # no more than the id asked for
    assert snapshot(client.url) == before
    # A machine user's id is refused for another machine user too, and a free one is taken.
    chosen = f"bot-{secrets.token_hex(4)}"
    made = _cli(client, tmp_path, "create-machine-user", "--org-id", org, "--name", "bot", "--user-id", chosen)
    assert (made.returncode, made.stdout.strip()) == (0, chosen), made.stderr
    again = _cli(client, tmp_path, "create-machine-user", "--org-id", org, "--name", "bot2", "--user-id", chosen)
    assert again.returncode == 1 and "already exists" in again.stderr
    # And then AddHumanUser refuses it as well.
    with pytest.raises(grpc.RpcError) as human_with_it:
        client.add_user(user_id=chosen)
    assert reason_of(human_with_it.value) == "USER_EXISTS"
