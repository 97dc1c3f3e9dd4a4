"""A RegisterPasskey never verified: ListPasskeys stops showing its NOT_READY passkey when the
challenge expires, and the serving process's sweep removes it, with an event, one challenge
lifetime later; a pending one within its lifetime stays. The same sweep deletes the outbox's
unsent registration links once their code has expired. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import Row, create_engine, text
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.commands import expiry, links
from passkeys.config import Settings
from passkeys.details import now
from passkeys.store.db import Database
from tests.support.servers import running


def query(url: str, sql: str) -> list[Row[Any]]:
    """`sql`'s rows, straight from the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


def removal_events(url: str) -> list[dict[str, object]]:
    rows = query(url, "SELECT type, payload FROM events ORDER BY user_id, sequence")
    # JSON: a dict on PostgreSQL, its text on SQLite.
    return [json.loads(p) if isinstance(p, str) else p for kind, p in rows if kind == "user.human.passkey.removed"]


def register(stub, user_id: str) -> str:
    return stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id)).passkey_id


def listed(stub, user_id: str) -> list[tuple[str, int]]:
    return [(p.id, p.state) for p in stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result]


def test_expired_pending_passkeys_leave_the_list_then_the_database(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expiry, "SWEEP_INTERVAL_S", 0.2)
    with running(replace(settings, challenge_ttl_s=1)) as client:
        user_id = client.add_user()
        old = register(client.stub, user_id)
        assert listed(client.stub, user_id) == [(old, 1)]  # within its lifetime: shown
        time.sleep(1.2)
        fresh = register(client.stub, user_id)
        # Expired: no longer listed, though not removed yet (a late verify still hears why).
        assert listed(client.stub, user_id) == [(fresh, 1)]
        with pytest.raises(grpc.RpcError) as late:
            client.stub.VerifyPasskeyRegistration(
                pb.VerifyPasskeyRegistrationRequest(
                    user_id=user_id, passkey_id=old, passkey_name="late", public_key_credential={"id": "x" * 60}
                )
            )
        assert late.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        # One lifetime after it expired, the sweep removes it, with an event; the fresh one stays.
        deadline = time.monotonic() + 5
        while not removal_events(client.url) and time.monotonic() < deadline:
            time.sleep(0.1)
        # Only the old one (the fresh one expired less than a lifetime ago, if at all).
        assert removal_events(client.url) == [{"passkey_id": old, "reason": "challenge_expired"}]
        with pytest.raises(grpc.RpcError) as gone:
            client.stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=user_id, passkey_id=old))
        assert gone.value.code() is grpc.StatusCode.NOT_FOUND


def test_a_sweep_removes_each_passkey_once_and_keeps_verified_ones(settings: Settings) -> None:
    with running(replace(settings, challenge_ttl_s=1)) as client:
        user_id = client.add_user()
        first, second = register(client.stub, user_id), register(client.stub, user_id)
        db = Database(settings.database_url)
        try:
            assert expiry.remove_expired(db, challenge_ttl_s=1) == 0  # not expired yet
            time.sleep(2.2)
            # Two workers' sweeps at the same moment: each passkey removed, and its event written, once.
            assert expiry.remove_expired(db, challenge_ttl_s=1) == 2
            assert expiry.remove_expired(db, challenge_ttl_s=1) == 0
        finally:
            db.dispose()
        assert sorted(e["passkey_id"] for e in removal_events(client.url)) == sorted([first, second])
        assert listed(client.stub, user_id) == []


def outbox_rows(url: str) -> list[tuple[str, str, bool]]:
    """(user id, body, sent) of every outbox message."""
    rows = query(url, "SELECT user_id, body, sent_at FROM outbox ORDER BY created_at")
    return [(user_id, body, sent_at is not None) for user_id, body, sent_at in rows]


def send_link(stub, user_id: str) -> None:
    stub.CreatePasskeyRegistrationLink(pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, send_link={}))


def test_the_sweep_purges_unsent_links_whose_code_has_expired(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(expiry, "SWEEP_INTERVAL_S", 0.2)
    monkeypatch.setattr(links, "CODE_TTL", timedelta(seconds=1))  # codes and their links live 1 s
    caplog.set_level(logging.INFO, logger="passkeys.server")
    with running(settings) as client:
        expired, delivered, fresh = client.add_user(), client.add_user(), client.add_user()
        send_link(client.stub, expired)
        send_link(client.stub, delivered)
        db = Database(settings.database_url)
        try:
            with db.write() as uow:
                [_, sent] = uow.outbox.unsent(limit=10)
                assert uow.outbox.mark_sent(sent.id, sent.created_at)
        finally:
            db.dispose()
        time.sleep(1.2)
        send_link(client.stub, fresh)  # its code is still valid: its link stays
        deadline = time.monotonic() + 5
        while any(user_id == expired for user_id, _, _ in outbox_rows(client.url)) and time.monotonic() < deadline:
            time.sleep(0.1)
        # The expired code's sealed link is gone; the delivered one (already without body) is kept.
        rows = outbox_rows(client.url)
        assert [(user_id, sent) for user_id, _, sent in rows] == [(delivered, True), (fresh, False)]
        assert rows[0][1] == "" and rows[1][1] != ""
    assert [r.count for r in caplog.records if r.getMessage() == "expired outbox links purged"] == [1]


def test_a_purge_deletes_each_expired_link_once(settings: Settings) -> None:
    with running(settings) as client:
        users = [client.add_user() for _ in range(3)]
        for user_id in users:
            send_link(client.stub, user_id)
        db = Database(settings.database_url)
        try:
            assert expiry.purge_expired_links(db) == 0  # codes valid for an hour yet
            assert expiry.purge_expired_links(db, at=now() + links.CODE_TTL - timedelta(seconds=5)) == 0
            # Two workers' sweeps at the same moment: each message deleted once.
            later = now() + links.CODE_TTL
            assert expiry.purge_expired_links(db, at=later) == 3
            assert expiry.purge_expired_links(db, at=later) == 0
        finally:
            db.dispose()
        assert outbox_rows(client.url) == []
