"""The personal access token cache (PASSKEYS_TOKEN_CACHE_S): a cached token still expires on
time, unknown tokens are never cached, and with the cache off a new grant counts at once."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

import pytest

from passkeys.auth import permissions
from passkeys.auth.authenticate import Authenticator
from passkeys.commands import admin
from passkeys.commands.bootstrap import bootstrap
from passkeys.details import now
from passkeys.errors import Unauthenticated
from passkeys.store.db import Database
from passkeys.store.migrate import upgrade


@pytest.fixture
def db(database_url: str, tmp_path):
    database = Database(database_url)
    upgrade(database.engine)
    bootstrap(database, domain="example.com", admin_pat_path=str(tmp_path / "admin.pat"))
    yield database
    database.dispose()


def machine_token(db: Database, *, expires_in: timedelta) -> tuple[str, str, str]:
    with db.write() as s:
        org = admin.create_org(s, name="org", domain=f"o{secrets.token_hex(4)}.example")
        uid = admin.create_machine_user(s, org_id=org, name=f"m{secrets.token_hex(4)}")
        token = admin.create_token(s, user_id=uid, expires_at=now() + expires_in).token
    return token, uid, org


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def test_a_cached_token_still_expires_on_time(db: Database) -> None:
    token, uid, _ = machine_token(db, expires_in=timedelta(seconds=1.5))
    authn = Authenticator(db, None, token_cache_s=60)
    assert authn.caller(bearer(token)).user_id == uid  # read once, then cached for a minute
    time.sleep(1.6)
    with pytest.raises(Unauthenticated) as refused:
        authn.caller(bearer(token))
    assert refused.value.reason == "TOKEN_EXPIRED"


def test_unknown_tokens_are_not_cached_and_grants_are_reread_after_the_cache_time(db: Database) -> None:
    authn = Authenticator(db, None, token_cache_s=1)
    for _ in range(2):
        with pytest.raises(Unauthenticated) as refused:
            authn.caller(bearer("pat_" + secrets.token_urlsafe(32)))
        assert refused.value.reason == "TOKEN_INVALID"
    token, uid, org = machine_token(db, expires_in=timedelta(hours=1))
    assert authn.caller(bearer(token)).grants == ()
    with db.write() as s:
        admin.grant_role(s, user_id=uid, role=permissions.ORG_USER_MANAGER, org_id=org)
    assert authn.caller(bearer(token)).grants == ()  # the cached caller, for up to a second
    time.sleep(1.1)
    assert [g.role for g in authn.caller(bearer(token)).grants] == [permissions.ORG_USER_MANAGER]


def test_without_the_cache_a_new_grant_counts_at_once(db: Database) -> None:
    token, uid, org = machine_token(db, expires_in=timedelta(hours=1))
    authn = Authenticator(db, None, token_cache_s=0)
    assert authn.caller(bearer(token)).grants == ()
    with db.write() as s:
        admin.grant_role(s, user_id=uid, role=permissions.ORG_USER_MANAGER, org_id=org)
    assert [g.role for g in authn.caller(bearer(token)).grants] == [permissions.ORG_USER_MANAGER]
