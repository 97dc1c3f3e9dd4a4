"""Fresh databases for tests: a SQLite file, or a new PostgreSQL database on the local server."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import Engine

PG_ADMIN = os.environ.get("PASSKEYS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_database(backend: str, tmp: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'passkeys.db'}"
        return
    name = f"passkeys_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal snapshots mean nothing was changed."""
    engine: Engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        out: dict[str, list[tuple[Any, ...]]] = {}
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                rows = conn.execute(select(table)).all()
                out[name] = sorted((tuple(r) for r in rows), key=repr)
        return out
    finally:
        engine.dispose()


class Snapshots:
    """snapshot() for many calls on one database: one engine, the schema reflected once."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)
        self.meta = MetaData()
        self.meta.reflect(self.engine)

    def take(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.engine.connect() as conn:
            return {
                name: sorted((tuple(r) for r in conn.execute(select(table)).all()), key=repr)
                for name, table in sorted(self.meta.tables.items())
            }

    def close(self) -> None:
        self.engine.dispose()


def event_row(sequence: int, at: datetime, user_id: str = "u1") -> dict[str, object]:
    """The columns of a test event of `user_id` (of organization o1), `sequence` seconds after `at`."""
    return {
        "user_id": user_id,
        "sequence": sequence,
        "type": "user.test",
        "resource_owner": "o1",
        "created_at": at + timedelta(seconds=sequence),
        "payload": {"n": sequence, "list": ["a", None], "ok": True},
    }
