"""db.write() on the pooled DB-API connection (store/lean.py), on SQLite and PostgreSQL: the
hot path's statements make no SQLAlchemy Connection; SQLAlchemy statements and ORM objects
in a write join its one transaction (committed and rolled back with the driver's
statements); a connection the database dropped is invalidated and the write UNAVAILABLE."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import bindparam, event, insert, select, text

from passkeys.errors import Unavailable
from passkeys.store.db import Database
from passkeys.store.driver import DriverStatement
from passkeys.store.migrate import upgrade
from passkeys.store.models import Event, Organization
from tests.support.databases import event_row

AT = datetime(2026, 12, 4, 8, 0, 0, 123456, tzinfo=UTC)
_EVENTS = Event.__table__
_INSERT = DriverStatement(insert(_EVENTS), ["user_id", "sequence", "type", "resource_owner", "created_at", "payload"])
_COUNT = DriverStatement(select(_EVENTS.c.sequence).where(_EVENTS.c.user_id == bindparam("user_id")))


@pytest.fixture
def db(database_url: str):
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    database.dispose()


def _event(sequence: int) -> dict[str, object]:
    return event_row(sequence, AT)


def _sequences(db: Database) -> list[int]:
    with db.read() as uow:
        return sorted(r.sequence for r in _COUNT.rows(uow.conn, {"user_id": "u1"}))


def test_driver_statements_in_a_write_make_no_sqlalchemy_connection(db: Database) -> None:
    connections = []
    event.listen(db.engine, "engine_connect", connections.append)
    with db.write() as uow:
        _INSERT.rowcount(uow.conn, _event(1))
        assert _COUNT.rows(uow.conn, {"user_id": "u1"})[0].sequence == 1
    assert connections == []
    assert _sequences(db) == [1]


@pytest.mark.parametrize("fail", [False, True])
def test_sqlalchemy_and_orm_statements_join_the_writes_transaction(db: Database, fail: bool) -> None:
    with pytest.raises(RuntimeError) if fail else nullcontext(), db.write() as uow:
        _INSERT.rowcount(uow.conn, _event(1))
        uow.conn.execute(insert(_EVENTS), _event(2))
        uow.add(Organization(id="o1", name="o", domain="o.example", created_at=AT))
        uow.flush()
        _INSERT.rowcount(uow.conn, _event(3))
        # The three ways see each other's rows: one transaction.
        assert [r.sequence for r in _COUNT.rows(uow.conn, {"user_id": "u1"})] == [1, 2, 3]
        assert uow.conn.execute(text("SELECT count(*) FROM organizations")).scalar() == 1
        if fail:
            raise RuntimeError("rolled back")
    with db.read() as uow:
        organizations = uow.conn.execute(text("SELECT count(*) FROM organizations")).scalar()
    assert (_sequences(db), organizations) == (([], 0) if fail else ([1, 2, 3], 1))


@pytest.mark.postgres
def test_a_dropped_connection_is_invalidated_and_the_write_unavailable(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL backend is terminated")
    db = Database(database_url)
    try:
        upgrade(db.engine)
        with pytest.raises(Unavailable), db.write() as uow:
            pid = uow.conn.connection.driver_connection.info.backend_pid
            with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            _INSERT.rowcount(uow.conn, _event(1))
        # The pool made a new connection: the next write works.
        with db.write() as uow:
            _INSERT.rowcount(uow.conn, _event(2))
        assert _sequences(db) == [2]
    finally:
        db.dispose()
