"""Passkey sign-in through zitadel.session.v2.SessionService over gRPC against the real server, on
SQLite and PostgreSQL: user-first and discoverable, and each refusal with its exact code and
reason, the database exactly as it was."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text, update
from zitadel.session.v2 import session_service_pb2 as spb
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.auth.permissions import IAM_LOGIN_CLIENT, ORG_USER_MANAGER
from passkeys.commands import admin
from passkeys.config import Settings
from passkeys.details import now
from passkeys.store.db import Database
from passkeys.store.models import SignInSession
from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator, b64url
from tests.support.databases import snapshot
from tests.support.servers import Client, running
from tests.support.signin import Enrolled, challenge_of, check_assertion, enrol, error_info, request_options

REQUIRED, PREFERRED = 1, 2


def _sql(url: str, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def _start(client: Client, user: Enrolled | None, *, uv: int = REQUIRED) -> tuple[str, bytes, dict[str, Any]]:
    """CreateSession with (or, user None, without) checks.user and a WebAuthn challenge."""
    request = spb.CreateSessionRequest(
        challenges={"web_auth_n": {"domain": RP_ID, "user_verification_requirement": uv}}
    )
    if user is not None:
        request.checks.user.user_id = user.user_id
    created = client.sessions_for(client.admin_token).CreateSession(request)
    return created.session_id, challenge_of(created.challenges), request_options(created.challenges)


def _assertion(user: Enrolled, challenge: bytes, **fields: Any) -> dict[str, Any]:
    fields.setdefault("user_handle", user.user_id.encode())
    return user.auth.authenticate(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, **fields)


def test_user_first_sign_in(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    other = enrol(client, origin=ORIGIN, rp_id=RP_ID)  # its passkey is not offered
    created = sessions.CreateSession(
        spb.CreateSessionRequest(
            checks={"user": {"login_name": user.username}},
            challenges={"web_auth_n": {"domain": RP_ID, "user_verification_requirement": REQUIRED}},
        )
    )
    options = request_options(created.challenges)
    assert options["rpId"] == RP_ID and options["userVerification"] == "required"
    assert options["timeout"] == client.settings.challenge_ttl_s * 1000
    assert options["allowCredentials"] == [
        {"id": b64url(user.auth.credential_id), "type": "public-key", "transports": ["internal"]}
    ]
    assert b64url(other.auth.credential_id) not in str(options)
    # session.added, user.checked, webAuthN.challenged, token.set (tests/service/test_session_events.py)
    assert created.details.sequence == 4 and created.session_token

    assertion = _assertion(user, challenge_of(created.challenges), sign_count=7)
    changed = sessions.SetSession(check_assertion(created.session_id, assertion))
    assert changed.session_token and changed.session_token != created.session_token
    assert changed.details.sequence == 6  # webAuthN.checked, token.set
    assert not changed.HasField("challenges") or not changed.challenges.HasField("web_auth_n")

    got = sessions.GetSession(spb.GetSessionRequest(session_id=created.session_id)).session
    assert got.factors.user.id == user.user_id and got.factors.user.login_name == f"{user.username}@{RP_ID}"
    assert got.factors.web_auth_n.user_verified is True
    assert got.factors.web_auth_n.verified_at.ToDatetime() >= got.creation_date.ToDatetime()
    assert got.sequence == 6
    [stored] = _sql(client.url, "SELECT sign_count, last_used_at FROM passkeys WHERE id = :id", id=user.passkey_id)
    assert stored.sign_count == 7 and stored.last_used_at is not None
    # The passkey's use is the user's next event.
    [event] = _sql(client.url, "SELECT type, payload FROM events WHERE user_id = :id ORDER BY sequence DESC LIMIT 1",
                   id=user.user_id)  # fmt: skip
    assert event.type == "user.human.passkey.check.succeeded"
    payload = event.payload if isinstance(event.payload, dict) else json.loads(event.payload)
    assert payload == {"passkey_id": user.passkey_id, "session_id": created.session_id, "sign_count": 7,
                       "user_verified": True, "backed_up": False}  # fmt: skip
    # The token is stored only as its hash.
    [row] = _sql(client.url, "SELECT token_hash FROM sessions WHERE id = :id", id=created.session_id)
    assert changed.session_token not in str(row) and len(row.token_hash) == 64


def test_discoverable_sign_in_finds_the_user_from_the_credential(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    session_id, challenge, options = _start(client, None)
    assert not options.get("allowCredentials")
    sessions.SetSession(check_assertion(session_id, _assertion(user, challenge)))
    got = sessions.GetSession(spb.GetSessionRequest(session_id=session_id)).session
    assert got.factors.user.id == user.user_id and got.factors.web_auth_n.user_verified


def test_preferred_user_verification_signs_in_without_uv(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    session_id, challenge, options = _start(client, user, uv=PREFERRED)
    assert options["userVerification"] == "preferred"
    sessions.SetSession(check_assertion(session_id, _assertion(user, challenge, user_verified=False)))
    got = sessions.GetSession(spb.GetSessionRequest(session_id=session_id)).session
    assert got.factors.web_auth_n.verified_at.seconds and got.factors.web_auth_n.user_verified is False


# --- refusals: (code, reason, check) and nothing stored --------------------------------------

INVALID, NOT_FOUND, FAILED = (
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
)


def _wrong_challenge(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, _, _ = _start(client, user)
    return check_assertion(session_id, _assertion(user, b"\x01" * 32))


def _challenge_of_another_session(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, _, _ = _start(client, user)
    _, other_challenge, _ = _start(client, user)
    return check_assertion(session_id, _assertion(user, other_challenge))


def _wrong_origin(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    assertion = user.auth.authenticate(
        challenge=challenge, origin="https://evil.example.com", rp_id=RP_ID, user_handle=user.user_id.encode()
    )
    return check_assertion(session_id, assertion)


def _other_rp_id_hash(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    assertion = user.auth.authenticate(
        challenge=challenge, origin=ORIGIN, rp_id="evil.example.com", user_handle=user.user_id.encode()
    )
    return check_assertion(session_id, assertion)


def _other_users_credential(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    other = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    session_id, challenge, _ = _start(client, user)
    return check_assertion(session_id, _assertion(other, challenge))


def _not_ready_credential(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    # A registration of this user started (NOT_READY) and never verified: its authenticator signs.
    client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user.user_id))
    pending = Enrolled(user.user_id, user.username, "", SoftAuthenticator())
    session_id, challenge, _ = _start(client, user)
    return check_assertion(session_id, _assertion(pending, challenge))


def _removed_passkey(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    client.stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=user.user_id, passkey_id=user.passkey_id))
    return check_assertion(session_id, _assertion(user, challenge))


def _no_uv_when_required(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    return check_assertion(session_id, _assertion(user, challenge, user_verified=False))


def _bad_signature(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    return check_assertion(session_id, _assertion(user, challenge, bad_signature=True))


def _backup_eligibility_changed(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    # Registered device-bound (BE=0): an assertion claiming BE=1 is not that credential (L3 §6.1.3).
    session_id, challenge, _ = _start(client, user)
    return check_assertion(session_id, _assertion(user, challenge, backup_eligible=True))


def _create_type(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    return check_assertion(session_id, _assertion(user, challenge, client_data_type="webauthn.create"))


def _not_the_owners_user_handle(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    return check_assertion(session_id, _assertion(user, challenge, user_handle=b"someone else"))


def _discoverable_without_user_handle(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, None)
    return check_assertion(session_id, user.auth.authenticate(challenge=challenge, origin=ORIGIN, rp_id=RP_ID))


def _discoverable_other_user_handle(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    other = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    session_id, challenge, _ = _start(client, None)
    return check_assertion(session_id, _assertion(user, challenge, user_handle=other.user_id.encode()))


def _counter_went_back(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    sessions = client.sessions_for(client.admin_token)
    session_id, challenge, _ = _start(client, user)
    sessions.SetSession(check_assertion(session_id, _assertion(user, challenge, sign_count=5)))
    session_id, challenge, _ = _start(client, user)
    return check_assertion(session_id, _assertion(user, challenge, sign_count=5))


def _replayed(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    request = check_assertion(session_id, _assertion(user, challenge))
    client.sessions_for(client.admin_token).SetSession(request)
    return request


def _replayed_into_a_new_session(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    assertion = _assertion(user, challenge)
    client.sessions_for(client.admin_token).SetSession(check_assertion(session_id, assertion))
    new_session, _, _ = _start(client, user)
    return check_assertion(new_session, assertion)


def _expired(client: Client, user: Enrolled) -> spb.SetSessionRequest:
    session_id, challenge, _ = _start(client, user)
    # Through the model's column type, which stores UTC as each database wants it.
    table = SignInSession.__table__
    engine = create_engine(client.url)
    try:
        with engine.begin() as conn:
            expired = (
                update(table).where(table.c.id == session_id).values(challenge_expires_at=now() - timedelta(seconds=1))
            )
            conn.execute(expired)
    finally:
        engine.dispose()
    return check_assertion(session_id, _assertion(user, challenge))


def _malformed(assertion_of: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[..., spb.SetSessionRequest]:
    def make(client: Client, user: Enrolled) -> spb.SetSessionRequest:
        session_id, challenge, _ = _start(client, user)
        return check_assertion(session_id, assertion_of(_assertion(user, challenge)))

    return make


def _without(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def drop(assertion: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in assertion.items() if k != key}

    return drop


def _replace_response(key: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(assertion: dict[str, Any]) -> dict[str, Any]:
        return {**assertion, "response": {**assertion["response"], key: value}}

    return change


REFUSALS: dict[str, tuple[Callable[..., spb.SetSessionRequest], grpc.StatusCode, str, str | None]] = {
    "wrong challenge": (_wrong_challenge, INVALID, "ASSERTION_REJECTED", "challenge"),
    "challenge of another session": (_challenge_of_another_session, INVALID, "ASSERTION_REJECTED", "challenge"),
    "replayed assertion": (_replayed, FAILED, "CHALLENGE_MISSING", None),
    "replayed into a new session": (_replayed_into_a_new_session, INVALID, "ASSERTION_REJECTED", "challenge"),
    "expired challenge": (_expired, FAILED, "CHALLENGE_EXPIRED", None),
    "wrong origin": (_wrong_origin, INVALID, "ASSERTION_REJECTED", "origin"),
    "another RP's rpIdHash": (_other_rp_id_hash, INVALID, "ASSERTION_REJECTED", "rp_id_hash"),
    "credential of another user": (_other_users_credential, NOT_FOUND, "PASSKEY_NOT_FOUND", None),
    "NOT_READY credential": (_not_ready_credential, NOT_FOUND, "PASSKEY_NOT_FOUND", None),
    "removed passkey": (_removed_passkey, NOT_FOUND, "PASSKEY_NOT_FOUND", None),
    "no UV when REQUIRED": (_no_uv_when_required, INVALID, "ASSERTION_REJECTED", "user_verification"),
    "bad signature": (_bad_signature, INVALID, "ASSERTION_REJECTED", "signature"),
    "backup eligibility changed": (_backup_eligibility_changed, INVALID, "ASSERTION_REJECTED", "backup_eligibility"),
    "webauthn.create type": (_create_type, INVALID, "ASSERTION_REJECTED", "client_data_type"),
    "userHandle not the owner's": (_not_the_owners_user_handle, INVALID, "ASSERTION_REJECTED", "user_handle"),
    "discoverable without userHandle": (
        _discoverable_without_user_handle, INVALID, "ASSERTION_REJECTED", "user_handle"
    ),
    "discoverable, other user's handle": (
        _discoverable_other_user_handle, INVALID, "ASSERTION_REJECTED", "user_handle"
    ),
    "counter did not grow": (_counter_went_back, FAILED, "SIGN_COUNT_REGRESSED", "sign_count"),
    "no rawId": (_malformed(_without("rawId")), INVALID, "ASSERTION_REJECTED", "credential_structure"),
    "no response": (_malformed(_without("response")), INVALID, "ASSERTION_REJECTED", "credential_structure"),
    "clientDataJSON not base64url": (
        _malformed(_replace_response("clientDataJSON", "***")), INVALID, "ASSERTION_REJECTED", "client_data"
    ),
    "authenticatorData cut short": (
        _malformed(_replace_response("authenticatorData", "AAAA")), INVALID, "ASSERTION_REJECTED", "authenticator_data"
    ),
    "signature a number": (
        _malformed(_replace_response("signature", 5)), INVALID, "ASSERTION_REJECTED", "credential_structure"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_has_its_code_and_stores_nothing(client: Client, case: str) -> None:
    make, code, reason, check = REFUSALS[case]
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    request = make(client, user)
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as caught:
        client.sessions_for(client.admin_token).SetSession(request)
    error = caught.value
    assert error.code() == code, error.details()
    info = error_info(error)
    assert info.reason == reason, error.details()
    if check is not None:
        assert info.metadata["check"] == check, error.details()
    assert snapshot(client.url) == before


def test_backup_state_and_last_use_are_stored_on_every_sign_in(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID, backup_eligible=True)
    used = []
    for backed_up in (True, False):
        session_id, challenge, _ = _start(client, user)
        sessions.SetSession(
            check_assertion(session_id, _assertion(user, challenge, backup_eligible=True, backed_up=backed_up))
        )
        [stored] = _sql(client.url, "SELECT backed_up, last_used_at FROM passkeys WHERE id = :id", id=user.passkey_id)
        assert bool(stored.backed_up) is backed_up
        used.append(stored.last_used_at)
    assert used[0] is not None and used[1] != used[0]
    # Eligible at registration, so an assertion without BE is refused too (the flag never changes).
    session_id, challenge, _ = _start(client, user)
    with pytest.raises(grpc.RpcError) as caught:
        sessions.SetSession(check_assertion(session_id, _assertion(user, challenge)))
    assert error_info(caught.value).metadata["check"] == "backup_eligibility"


def test_counter_that_grows_signs_in_again(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    for count in (1, 2, 10):
        session_id, challenge, _ = _start(client, user)
        sessions.SetSession(check_assertion(session_id, _assertion(user, challenge, sign_count=count)))
    [stored] = _sql(client.url, "SELECT sign_count FROM passkeys WHERE id = :id", id=user.passkey_id)
    assert stored.sign_count == 10


@pytest.mark.parametrize(
    ("check", "value"),
    [("password", {"password": "x"}), ("totp", {"code": "123456"}), ("otp_sms", {"code": "1"}),
     ("otp_email", {"code": "1"}), ("idp_intent", {"idp_intent_id": "a", "idp_intent_token": "b"})],
)  # fmt: skip
def test_checks_we_do_not_implement_are_refused_by_name(client: Client, check: str, value: dict[str, str]) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as caught:
        sessions.CreateSession(spb.CreateSessionRequest(checks={"user": {"user_id": user.user_id}, check: value}))
    assert caught.value.code() == INVALID
    assert error_info(caught.value).reason == "CHECK_NOT_SUPPORTED" and f"checks.{check}" in caught.value.details()
    assert snapshot(client.url) == before


def test_permissions(client: Client) -> None:
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    db = Database(client.url)
    try:
        with db.write() as s:
            org = _sql(client.url, "SELECT org_id FROM users WHERE id = :id", id=user.user_id)[0].org_id
            tokens = {}
            for name, role, on in (("login", IAM_LOGIN_CLIENT, None), ("manager", ORG_USER_MANAGER, org)):
                uid = admin.create_machine_user(s, org_id=org, name=f"{name}-{user.user_id}")
                admin.grant_role(s, user_id=uid, role=role, org_id=on)
                tokens[name] = admin.create_token(s, user_id=uid, expires_at=now() + timedelta(hours=1)).token
    finally:
        db.dispose()
    login, manager, anonymous = (client.sessions_for(tokens["login"]), client.sessions_for(tokens["manager"]),
                                 client.sessions_for(None))  # fmt: skip
    request = spb.CreateSessionRequest(
        checks={"user": {"user_id": user.user_id}},
        challenges={"web_auth_n": {"domain": RP_ID, "user_verification_requirement": REQUIRED}},
    )
    before = snapshot(client.url)
    for stub, code in ((manager, grpc.StatusCode.PERMISSION_DENIED), (anonymous, grpc.StatusCode.UNAUTHENTICATED)):
        with pytest.raises(grpc.RpcError) as caught:
            stub.CreateSession(request)
        assert caught.value.code() == code
    assert snapshot(client.url) == before

    created = login.CreateSession(request)
    changed = login.SetSession(check_assertion(created.session_id, _assertion(user, challenge_of(created.challenges))))
    # With the session's current token, a caller without session.read may read it; the old one is spent.
    got = manager.GetSession(spb.GetSessionRequest(session_id=created.session_id, session_token=changed.session_token))
    assert got.session.factors.user.id == user.user_id
    for stub, token in ((manager, created.session_token), (manager, None)):
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetSession(spb.GetSessionRequest(session_id=created.session_id, session_token=token))
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as caught:
        manager.DeleteSession(spb.DeleteSessionRequest(session_id=created.session_id))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = login.ListSessions(spb.ListSessionsRequest(queries=[{"user_id_query": {"id": user.user_id}}]))
    assert [s.id for s in listed.sessions] == [created.session_id] and listed.details.total_result == 1
    manager.DeleteSession(spb.DeleteSessionRequest(session_id=created.session_id, session_token=changed.session_token))
    with pytest.raises(grpc.RpcError) as caught:
        login.GetSession(spb.GetSessionRequest(session_id=created.session_id))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_list_sessions_by_ids(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    made = [_start(client, user)[0] for _ in range(3)]
    listed = sessions.ListSessions(
        spb.ListSessionsRequest(queries=[{"ids_query": {"ids": made[:2]}}], query={"asc": True})
    )
    assert [s.id for s in listed.sessions] == made[:2]
    with pytest.raises(grpc.RpcError) as caught:
        sessions.ListSessions(spb.ListSessionsRequest(queries=[{"user_agent_query": {}}]))
    assert caught.value.code() == INVALID and error_info(caught.value).reason == "QUERY_NOT_SUPPORTED"


def test_concurrent_set_session_with_one_assertion_exactly_one_wins(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    session_id, challenge, _ = _start(client, user)
    request = check_assertion(session_id, _assertion(user, challenge, sign_count=1))
    barrier = threading.Barrier(32)
    codes: list[grpc.StatusCode] = []
    unexpected: list[str] = []

    def call() -> None:
        barrier.wait()
        try:
            sessions.SetSession(request)
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as exc:
            codes.append(exc.code())
            if exc.code() != FAILED:
                unexpected.append(f"{exc.code()}: {exc.details()}")

    threads = [threading.Thread(target=call) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes.count(grpc.StatusCode.OK) == 1
    assert set(codes) == {grpc.StatusCode.OK, FAILED}, unexpected
    [row] = _sql(client.url, "SELECT sequence FROM sessions WHERE id = :id", id=session_id)
    assert row.sequence == 6
    # The winner's events only, gap-free after CreateSession's four.
    events = _sql(client.url, "SELECT sequence, type FROM session_events WHERE session_id = :id ORDER BY sequence",
                  id=session_id)  # fmt: skip
    assert [(e.sequence, e.type) for e in events] == [
        (1, "session.added"), (2, "session.user.checked"), (3, "session.webAuthN.challenged"),
        (4, "session.token.set"), (5, "session.webAuthN.checked"), (6, "session.token.set"),
    ]  # fmt: skip


def test_refusals_are_counted_by_reason_and_check(client: Client) -> None:
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    labels = {"reason": "SIGN_COUNT_REGRESSED", "check": "sign_count"}
    before = REGISTRY.get_sample_value("passkeys_sign_in_failures_total", labels) or 0.0
    with pytest.raises(grpc.RpcError):
        client.sessions_for(client.admin_token).SetSession(_counter_went_back(client, user))
    assert REGISTRY.get_sample_value("passkeys_sign_in_failures_total", labels) == before + 1


def test_metadata_user_agent_and_lifetime(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    created = sessions.CreateSession(
        spb.CreateSessionRequest(
            checks={"user": {"user_id": user.user_id}},
            metadata={"device": b"laptop", "locale": b"en"},
            user_agent={"fingerprint_id": "fp1", "ip": "192.0.2.1", "header": {"accept-language": {"values": ["en"]}}},
            lifetime={"seconds": 3600},
        )
    )
    sessions.SetSession(
        spb.SetSessionRequest(session_id=created.session_id, metadata={"locale": b"", "theme": b"dark"})
    )
    got = sessions.GetSession(spb.GetSessionRequest(session_id=created.session_id)).session
    assert dict(got.metadata) == {"device": b"laptop", "theme": b"dark"}
    assert got.user_agent.fingerprint_id == "fp1" and list(got.user_agent.header["accept-language"].values) == ["en"]
    assert 3500 < (got.expiration_date.ToDatetime() - got.creation_date.ToDatetime()).total_seconds() <= 3600
    mine = sessions.ListSessions(
        spb.ListSessionsRequest(queries=[{"creator_query": {}}, {"ids_query": {"ids": [created.session_id]}}])
    )
    assert [s.id for s in mine.sessions] == [created.session_id]

    table = SignInSession.__table__
    engine = create_engine(client.url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(table).where(table.c.id == created.session_id).values(expires_at=now() - timedelta(seconds=1))
            )
    finally:
        engine.dispose()
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as caught:
        sessions.SetSession(spb.SetSessionRequest(session_id=created.session_id, metadata={"x": b"y"}))
    assert caught.value.code() == FAILED and error_info(caught.value).reason == "SESSION_EXPIRED"
    with pytest.raises(grpc.RpcError) as caught:
        sessions.CreateSession(spb.CreateSessionRequest(lifetime={"seconds": -5}))
    assert caught.value.code() == INVALID
    assert snapshot(client.url) == before


def test_otp_challenges_are_refused_by_name(client: Client) -> None:
    before = snapshot(client.url)
    for name, value in (("otp_sms", {"return_code": True}), ("otp_email", {"return_code": {}})):
        with pytest.raises(grpc.RpcError) as caught:
            client.sessions_for(client.admin_token).CreateSession(spb.CreateSessionRequest(challenges={name: value}))
        assert caught.value.code() == INVALID and error_info(caught.value).reason == "CHALLENGE_NOT_SUPPORTED"
        assert f"challenges.{name}" in caught.value.details()
    assert snapshot(client.url) == before


def test_concurrent_sign_ins_of_one_user_each_get_their_event(client: Client) -> None:
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)  # its counter stays 0, as many passkeys' do
    requests = []
    for _ in range(8):
        session_id, challenge, _ = _start(client, user)
        requests.append(check_assertion(session_id, _assertion(user, challenge)))
    barrier = threading.Barrier(len(requests))
    failures: list[BaseException] = []

    def call(request: spb.SetSessionRequest) -> None:
        barrier.wait()
        try:
            sessions.SetSession(request)
        except grpc.RpcError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    events = _sql(client.url, "SELECT sequence FROM events WHERE user_id = :id AND type = :t", id=user.user_id,
                  t="user.human.passkey.check.succeeded")  # fmt: skip
    assert len({e.sequence for e in events}) == 8


def test_flag_policy_accepts_a_counter_that_did_not_grow_and_notes_it(settings: Settings) -> None:
    with running(dataclasses.replace(settings, sign_count_policy="flag")) as client:
        sessions = client.sessions_for(client.admin_token)
        user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
        before = REGISTRY.get_sample_value("passkeys_sign_count_flagged_total") or 0.0
        for count in (5, 3):
            session_id, challenge, _ = _start(client, user)
            sessions.SetSession(check_assertion(session_id, _assertion(user, challenge, sign_count=count)))
        assert REGISTRY.get_sample_value("passkeys_sign_count_flagged_total") == before + 1
        [stored] = _sql(client.url, "SELECT sign_count FROM passkeys WHERE id = :id", id=user.passkey_id)
        assert stored.sign_count == 5  # never lowered
        [event] = _sql(client.url, "SELECT payload FROM events WHERE user_id = :id ORDER BY sequence DESC LIMIT 1",
                       id=user.user_id)  # fmt: skip
        payload = event.payload if isinstance(event.payload, dict) else json.loads(event.payload)
        assert payload["sign_count_regressed"] is True and payload["sign_count"] == 5
        # The session's own event says so too (tests/service/test_session_events.py).
        [checked] = _sql(client.url, "SELECT payload FROM session_events WHERE session_id = :id AND type = :t",
                         id=session_id, t="session.webAuthN.checked")  # fmt: skip
        payload = checked.payload if isinstance(checked.payload, dict) else json.loads(checked.payload)
        assert payload["sign_count_regressed"] is True


def test_login_name_is_found_in_the_form_usernames_are_stored(client: Client) -> None:
    # Usernames are stored PRECIS case-mapped (issue 15): the login name a person types in another
    # case or in fullwidth letters finds the same user; a login name no username can be is refused.
    sessions = client.sessions_for(client.admin_token)
    user = enrol(client, origin=ORIGIN, rp_id=RP_ID)
    shouted = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in user.username.upper())
    created = sessions.CreateSession(spb.CreateSessionRequest(checks={"user": {"login_name": shouted}}))
    got = sessions.GetSession(spb.GetSessionRequest(session_id=created.session_id)).session
    assert got.factors.user.id == user.user_id
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as refused:
        sessions.CreateSession(spb.CreateSessionRequest(checks={"user": {"login_name": user.username + "\u200b"}}))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(refused.value).metadata["field"] == "checks.user.login_name"
    assert snapshot(client.url) == before
