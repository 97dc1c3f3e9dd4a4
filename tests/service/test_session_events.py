"""Every change of a session is an event of its own (ZITADEL's session event names), gap-free per
session, and each answer's `details` are its last event's: sequence, change date, resource owner.
DeleteSession's `session.terminated` stays with the rest of the history. SQLite and PostgreSQL,
over gRPC against the real server."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import create_engine, text
from zitadel.object.v2 import object_pb2
from zitadel.session.v2 import session_service_pb2 as spb

from passkeys.auth import tokens
from passkeys.config import Settings
from passkeys.details import now
from passkeys.store.db import Database
from passkeys.store.migrate import upgrade
from passkeys.store.models import SignInSession
from tests.conftest import ORIGIN, RP_ID
from tests.support.databases import snapshot
from tests.support.servers import Client, running
from tests.support.signin import Enrolled, challenge_of, check_assertion, enrol

CHALLENGE = {"web_auth_n": {"domain": RP_ID, "user_verification_requirement": 1}}


def _history(client: Client, session_id: str) -> list[Any]:
    db = Database(client.url)
    try:
        with db.read() as uow:
            return list(uow.session_events.history(session_id))
    finally:
        db.dispose()


def _one(client: Client, statement: str, **params: Any) -> Any:
    engine = create_engine(client.url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(statement), params).scalar_one()
    finally:
        engine.dispose()


def _at(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def _is_last_event(details: object_pb2.Details, history: list[Any], owner: str) -> None:
    last = history[-1]
    assert details.sequence == last.sequence == len(history)
    assert _at(details.change_date) == last.created_at
    assert details.resource_owner == last.resource_owner == owner


def _sign_in(client: Client, user: Enrolled, session_id: str, challenge: bytes) -> spb.SetSessionResponse:
    assertion = user.auth.authenticate(
        challenge=challenge, origin=ORIGIN, rp_id=RP_ID, user_handle=user.user_id.encode()
    )
    return client.sessions_for(client.admin_token).SetSession(check_assertion(session_id, assertion))


def test_each_change_is_an_event_and_details_are_the_last_ones(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    org = _one(client, "SELECT org_id FROM users WHERE id = :id", id=user.user_id)
    admin_token_hash = tokens.digest(client.admin_token)
    admin_id = _one(client, "SELECT user_id FROM access_tokens WHERE token_hash = :h", h=admin_token_hash)

    created = sessions.CreateSession(
        spb.CreateSessionRequest(
            checks={"user": {"user_id": user.user_id}},
            metadata={"device": b"laptop"},
            lifetime={"seconds": 600},
            user_agent={"fingerprint_id": "fp1"},
            challenges=CHALLENGE,
        )
    )
    history = _history(client, created.session_id)
    assert [(e.sequence, e.type) for e in history] == [
        (1, "session.added"), (2, "session.user.checked"), (3, "session.metadata.set"), (4, "session.lifetime.set"),
        (5, "session.webAuthN.challenged"), (6, "session.token.set"),
    ]  # fmt: skip
    _is_last_event(created.details, history, org)
    assert {e.created_at for e in history} == {_at(created.details.change_date)}  # one change, one time
    assert {e.editor_id for e in history} == {admin_id}
    added, checked, metadata, lifetime, challenged, _ = (e.payload for e in history)
    assert added == {"user_agent": {"fingerprintId": "fp1"}}
    assert checked == {"user_id": user.user_id}
    assert metadata == {"metadata": {"device": base64.b64encode(b"laptop").decode()}}
    assert lifetime["lifetime_s"] == 600
    assert challenged["rp_id"] == RP_ID and challenged["user_verification"] == "required"
    assert "discoverable" not in challenged and "challenge" not in challenged  # the secret stays in the row

    changed = _sign_in(client, user, created.session_id, challenge_of(created.challenges))
    history = _history(client, created.session_id)
    assert [(e.sequence, e.type) for e in history[6:]] == [(7, "session.webAuthN.checked"), (8, "session.token.set")]
    assert history[6].payload == {"passkey_id": user.passkey_id, "user_verified": True}
    _is_last_event(changed.details, history, org)
    assert _at(changed.details.creation_date) == history[0].created_at

    # A change with nothing in it still makes a new token: one event.
    empty = sessions.SetSession(spb.SetSessionRequest(session_id=created.session_id))
    history = _history(client, created.session_id)
    assert history[-1].type == "session.token.set" and history[-1].sequence == 9
    _is_last_event(empty.details, history, org)
    got = sessions.GetSession(spb.GetSessionRequest(session_id=created.session_id)).session
    assert got.sequence == 9 and _at(got.change_date) == history[-1].created_at

    removed = sessions.DeleteSession(spb.DeleteSessionRequest(session_id=created.session_id))
    history = _history(client, created.session_id)
    assert [(e.sequence, e.type) for e in history[9:]] == [(10, "session.terminated")]
    _is_last_event(removed.details, history, org)
    assert _one(client, "SELECT count(*) FROM sessions WHERE id = :id", id=created.session_id) == 0


def test_discoverable_sign_in_checks_the_user_by_its_passkey(client: Client) -> None:
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    org = _one(client, "SELECT org_id FROM users WHERE id = :id", id=user.user_id)
    created = client.sessions_for(client.admin_token).CreateSession(spb.CreateSessionRequest(challenges=CHALLENGE))
    history = _history(client, created.session_id)
    assert [e.type for e in history] == ["session.added", "session.webAuthN.challenged", "session.token.set"]
    assert history[1].payload["discoverable"] is True
    _is_last_event(created.details, history, "")  # no user yet: no organization owns it

    changed = _sign_in(client, user, created.session_id, challenge_of(created.challenges))
    history = _history(client, created.session_id)
    assert [(e.sequence, e.type) for e in history[3:]] == [
        (4, "session.user.checked"), (5, "session.webAuthN.checked"), (6, "session.token.set")
    ]  # fmt: skip
    assert history[3].payload == {"user_id": user.user_id}
    _is_last_event(changed.details, history, org)


def test_metadata_and_lifetime_changes_are_their_own_events(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    created = sessions.CreateSession(spb.CreateSessionRequest())
    history = _history(client, created.session_id)
    assert [e.type for e in history] == ["session.added", "session.token.set"]
    _is_last_event(created.details, history, "")
    changed = sessions.SetSession(
        spb.SetSessionRequest(session_id=created.session_id, metadata={"a": b"1", "b": b""}, lifetime={"seconds": 60})
    )
    history = _history(client, created.session_id)
    assert [e.type for e in history[2:]] == ["session.metadata.set", "session.lifetime.set", "session.token.set"]
    assert history[2].payload == {"metadata": {"a": "MQ==", "b": ""}}  # "": the key is removed
    assert history[3].payload["lifetime_s"] == 60
    assert datetime.fromisoformat(history[3].payload["expires_at"]) == _at(
        sessions.GetSession(spb.GetSessionRequest(session_id=created.session_id)).session.expiration_date
    )
    _is_last_event(changed.details, history, "")


def test_a_refused_delete_or_change_writes_no_event(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    created = sessions.CreateSession(spb.CreateSessionRequest(challenges=CHALLENGE))
    before = snapshot(client.url)
    refusals = (
        (lambda: client.sessions_for(None).DeleteSession(spb.DeleteSessionRequest(session_id=created.session_id)),
         grpc.StatusCode.UNAUTHENTICATED),
        (lambda: sessions.DeleteSession(spb.DeleteSessionRequest(session_id="nope")), grpc.StatusCode.NOT_FOUND),
        (lambda: sessions.SetSession(spb.SetSessionRequest(session_id="nope")), grpc.StatusCode.NOT_FOUND),
        (lambda: sessions.SetSession(spb.SetSessionRequest(session_id=created.session_id, lifetime={"seconds": -1})),
         grpc.StatusCode.INVALID_ARGUMENT),
    )  # fmt: skip
    for call, code in refusals:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == code
    assert snapshot(client.url) == before


def test_a_session_made_before_the_event_log_continues_from_its_sequence(settings: Settings) -> None:
    # Migration 0004 writes no history for sessions that already exist: their next event follows
    # the sequence they hold, and is their first.
    db = Database(settings.database_url)
    try:
        upgrade(db.engine, "0003")
        at = now()
        with db.write() as uow:
            uow.execute(SignInSession.__table__.insert().values(
                id="old", token_hash="0" * 64, creator_id="someone", metadata={}, user_agent={}, sequence=2,
                created_at=at, changed_at=at,
            ))  # fmt: skip
    finally:
        db.dispose()
    with running(settings) as client:
        changed = client.sessions_for(client.admin_token).SetSession(spb.SetSessionRequest(session_id="old"))
        history = _history(client, "old")
        assert [(e.sequence, e.type) for e in history] == [(3, "session.token.set")]
        assert changed.details.sequence == 3 and _at(changed.details.change_date) == history[-1].created_at
