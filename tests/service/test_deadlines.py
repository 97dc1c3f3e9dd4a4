"""Request deadlines are honoured: a write that waits on a lock held elsewhere gives up at the
call's deadline and is never committed later; a client told DEADLINE_EXCEEDED finds nothing
changed, even after the lock is released."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys import deadline
from passkeys.details import now
from passkeys.errors import DeadlineExceeded
from passkeys.store.db import Database
from passkeys.store.migrate import upgrade
from passkeys.store.models import Organization
from tests.support.databases import snapshot
from tests.support.registration import pending_verify, rows
from tests.support.servers import Client

CLIENT_DEADLINE_S = 0.5
LOCK_HELD_S = 2.0


@contextmanager
def user_locked(url: str, user_id: str) -> Iterator[None]:
    """Another connection holds the lock every change of this user needs."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        conn = sqlite3.connect(parsed.database or "", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # the database's one write lock
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT id FROM users WHERE id = %s FOR UPDATE", (user_id,))
        yield
        conn.rollback()


def expect_deadline(call: object, request: object) -> float:
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=CLIENT_DEADLINE_S)  # type: ignore[operator]
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    return time.monotonic() - started


def test_register_waiting_on_a_lock_ends_at_the_deadline_and_stores_nothing(client: Client) -> None:
    user_id = client.add_user()
    before = snapshot(client.url)
    with user_locked(client.url, user_id):
        expect_deadline(client.stub.RegisterPasskey, pb.RegisterPasskeyRequest(user_id=user_id))
        time.sleep(LOCK_HELD_S)
    time.sleep(0.5)  # a server still waiting on the lock would take it now and commit
    assert snapshot(client.url) == before
    # The server is not stuck: the next call, without deadline, works.
    assert client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id)).passkey_id


def test_verify_after_its_deadline_never_makes_the_passkey_ready(client: Client) -> None:
    user_id, started, request = pending_verify(client)
    before = snapshot(client.url)
    with user_locked(client.url, user_id):
        expect_deadline(client.stub.VerifyPasskeyRegistration, request)
        time.sleep(LOCK_HELD_S)
    time.sleep(0.5)
    assert snapshot(client.url) == before
    state = rows(client.url, "SELECT state FROM passkeys WHERE id = :id", id=started.passkey_id)
    assert state == [{"state": 1}]  # NOT_READY: the client may retry with the same credential
    client.stub.VerifyPasskeyRegistration(request)
    state = rows(client.url, "SELECT state FROM passkeys WHERE id = :id", id=started.passkey_id)
    assert state == [{"state": 2}]


def test_the_server_gives_up_the_lock_wait_at_the_deadline(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    """Not only the client stops waiting: the server's handler ends at the deadline too (its
    access line says so), so a held lock cannot pile up waiting workers."""
    user_id = client.add_user()
    caplog.set_level(logging.INFO, logger="passkeys.access")
    with user_locked(client.url, user_id):
        expect_deadline(client.stub.RegisterPasskey, pb.RegisterPasskeyRequest(user_id=user_id))
        until = time.monotonic() + LOCK_HELD_S
        while time.monotonic() < until and not [
            r for r in caplog.records if "RegisterPasskey" in getattr(r, "method", "")
        ]:
            time.sleep(0.05)
        lines = [r for r in caplog.records if "RegisterPasskey" in getattr(r, "method", "")]
        assert len(lines) == 1, "the handler was still waiting on the lock"
    assert lines[0].code == "DEADLINE_EXCEEDED"
    assert lines[0].latency_ms < (CLIENT_DEADLINE_S + 0.5) * 1000


def test_a_write_whose_deadline_passes_before_its_commit_is_rolled_back(database_url: str) -> None:
    """The rule under the tests above, on the store itself: no commit after the deadline, even
    when nothing waited on a lock (here the work itself is slow)."""
    db = Database(database_url)
    try:
        upgrade(db.engine)
        with deadline.bounded(0.2), pytest.raises(DeadlineExceeded), db.write() as session:
            session.add(Organization(id="late", name="late", domain="late.example", created_at=now()))
            time.sleep(0.3)
        with deadline.bounded(5), db.write() as session:
            session.add(Organization(id="in-time", name="in time", domain="in-time.example", created_at=now()))
        with db.read() as session:
            assert session.scalars(select(Organization.id)).all() == ["in-time"]
    finally:
        db.dispose()
