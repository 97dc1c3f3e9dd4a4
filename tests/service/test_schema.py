"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from passkeys.store.db import Database
from passkeys.store.migrate import upgrade
from passkeys.store.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db.engine)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        db.dispose()


def _user_row(user_id: str, org_id: str, at: str) -> str:
    return (
        f"INSERT INTO users VALUES ('{user_id}', '{org_id}', 'ada', 'A', 'L', 'A L', 'a@x.example', 1, '{at}', '{at}')"
    )


def test_usernames_become_unique_per_organization_in_a_database_with_users(database_url: str) -> None:
    # 0007 rebuilds `users` on SQLite (foreign keys off for the rebuild only): rows and the
    # children's foreign keys survive it.
    db = Database(database_url)
    at = "2026-01-01 00:00:00"
    try:
        upgrade(db.engine, "0006")
        with db.engine.begin() as conn:
            for org in ("a", "b"):
                conn.execute(text(f"INSERT INTO organizations VALUES ('{org}', '{org}', '{org}.example', '{at}')"))
            conn.execute(text(_user_row("u1", "a", at)))
            conn.execute(
                text(
                    "INSERT INTO passkeys (id, user_id, state, rp_id, created_at) "
                    f"VALUES ('p1', 'u1', 1, 'x.example', '{at}')"
                )
            )
        upgrade(db.engine)
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT user_id FROM passkeys")).scalar_one() == "u1"
            conn.execute(text(_user_row("u2", "b", at)))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # one org: still one ada
            conn.execute(text(_user_row("u3", "a", at)))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # foreign keys still enforced
            conn.execute(
                text(
                    "INSERT INTO passkeys (id, user_id, state, rp_id, created_at) "
                    f"VALUES ('p2', 'nobody', 1, 'x.example', '{at}')"
                )
            )
    finally:
        db.dispose()
