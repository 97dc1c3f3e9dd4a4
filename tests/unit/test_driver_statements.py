"""store/driver.py on SQLite and PostgreSQL: a statement run on the DB-API cursor reads and
writes the same values as SQLAlchemy's own execution of it (UTC datetimes, JSON, bytes,
booleans), and a driver error is SQLAlchemy's exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from passkeys.store.db import Database
from passkeys.store.driver import DriverStatement
from passkeys.store.migrate import upgrade
from passkeys.store.models import Event, Organization, User
from tests.support.databases import event_row

AT = datetime(2026, 12, 3, 8, 0, 0, 123456, tzinfo=UTC)
_EVENTS = Event.__table__
_INSERT = DriverStatement(insert(_EVENTS), ["user_id", "sequence", "type", "resource_owner", "created_at", "payload"])
_SELECT = select(_EVENTS.c.sequence, _EVENTS.c.created_at, _EVENTS.c.payload).where(
    _EVENTS.c.user_id == bindparam("user_id")
)
_DRIVER_SELECT = DriverStatement(_SELECT.order_by(_EVENTS.c.sequence))


@pytest.fixture
def db(database_url: str):
    database = Database(database_url)
    upgrade(database.engine)
    with database.write() as uow:
        uow.add(Organization(id="o1", name="o", domain="o.example", created_at=AT))
        uow.flush()
        uow.add(
            User(
                id="u1",
                org_id="o1",
                username="u",
                given_name="G",
                family_name="F",
                display_name="G F",
                email="u@example.com",
                sequence=0,
                created_at=AT,
                changed_at=AT,
            )
        )
    yield database
    database.dispose()


def _event(sequence: int) -> dict[str, object]:
    return event_row(sequence, AT)


def test_driver_rows_equal_sqlalchemys_both_ways(db: Database) -> None:
    with db.write() as uow:
        assert _INSERT.rowcount(uow.conn, _event(1)) == 1
        uow.conn.execute(insert(_EVENTS), _event(2))  # written by SQLAlchemy, read by the driver
    with db.read() as uow:
        ours = _DRIVER_SELECT.rows(uow.conn, {"user_id": "u1"})
        theirs = uow.conn.execute(_SELECT.order_by(_EVENTS.c.sequence), {"user_id": "u1"}).all()
    assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
    assert ours[0].created_at == AT + timedelta(seconds=1) and ours[0].created_at.tzinfo is not None
    assert ours[1].payload == {"n": 2, "list": ["a", None], "ok": True}
    with db.read() as uow:
        assert _DRIVER_SELECT.first(uow.conn, {"user_id": "nobody"}) is None


def test_a_driver_error_is_sqlalchemys_exception_and_rolls_back(db: Database) -> None:
    with db.write() as uow:
        _INSERT.rowcount(uow.conn, _event(1))
    with pytest.raises(IntegrityError), db.write() as uow:
        _INSERT.rowcount(uow.conn, _event(5))
        _INSERT.rowcount(uow.conn, _event(1))  # (user_id, sequence) is the primary key
    with db.read() as uow:
        assert [r.sequence for r in _DRIVER_SELECT.rows(uow.conn, {"user_id": "u1"})] == [1]
