"""Races through the real server, on SQLite and PostgreSQL: 32 threads released together by a
barrier. Exactly one winner where there can be only one, a clean 4xx for every loser (never
INTERNAL, UNKNOWN or UNAVAILABLE), and per-user event sequences 1..n without gaps or doubles.

PASSKEYS_RACE_ROUNDS (default 2) repeats each race on the same server.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import grpc
import pytest
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.config import Settings
from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.counts import record
from tests.support.registration import Pending, as_struct, b64decode, options_of, register_and_verify, rows
from tests.support.servers import Client, running

THREADS = 32
ROUNDS = int(os.environ.get("PASSKEYS_RACE_ROUNDS", "2"))
OK = grpc.StatusCode.OK


@pytest.fixture
def client(settings: Settings) -> Any:
    # Every racer gets a worker thread, so they really meet in the database.
    with running(replace(settings, grpc_threads=THREADS + 8)) as c:
        yield c


def race(calls: list[Callable[[], Any]]) -> list[tuple[grpc.StatusCode, str, Any]]:
    """Run the calls at once; (code, ErrorInfo-free details, response or None) of each."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[grpc.StatusCode, str, Any]] = [(grpc.StatusCode.UNKNOWN, "not run", None)] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = (OK, "", calls[i]())
        except grpc.RpcError as exc:
            results[i] = (exc.code(), exc.details() or "", None)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def backend(client: Client) -> str:
    return "sqlite" if client.url.startswith("sqlite") else "postgres"


def codes(results: list[tuple[grpc.StatusCode, str, Any]]) -> Counter[grpc.StatusCode]:
    return Counter(code for code, _, _ in results)


def assert_gap_free(client: Client) -> dict[str, list[int]]:
    """Every user's events are numbered 1..n, and n is the user's sequence."""
    by_user: dict[str, list[int]] = {}
    for row in rows(client.url, "SELECT user_id, sequence FROM events ORDER BY user_id, sequence"):
        by_user.setdefault(row["user_id"], []).append(row["sequence"])
    users = {r["id"]: r["sequence"] for r in rows(client.url, "SELECT id, sequence FROM users")}
    for user_id, sequences in by_user.items():
        assert sequences == list(range(1, len(sequences) + 1)), user_id
        assert users[user_id] == len(sequences)
    return by_user


def test_concurrent_verifies_of_one_pending_passkey(client: Client) -> None:
    for _ in range(ROUNDS):
        p = Pending(client)
        request = p.request()
        results = race([partial(client.stub.VerifyPasskeyRegistration, request)] * THREADS)
        assert codes(results) == {OK: 1, grpc.StatusCode.FAILED_PRECONDITION: THREADS - 1}, results
        assert all("already verified" in details for code, details, _ in results if code != OK)
        stored = rows(client.url, "SELECT state, credential_id FROM passkeys WHERE user_id = :u", u=p.user_id)
        assert [(r["state"], bytes(r["credential_id"])) for r in stored] == [(2, p.auth.credential_id)]
        assert assert_gap_free(client)[p.user_id] == [1, 2, 3]
        record("races", "verify-one-pending-" + backend(client))


def test_concurrent_registrations_of_one_credential_for_different_users(client: Client) -> None:
    for _ in range(ROUNDS):
        auth = SoftAuthenticator()  # one credential id, 32 users, each with its own challenge
        pendings = [Pending(client, auth=auth) for _ in range(THREADS)]
        requests = [p.request() for p in pendings]
        results = race([partial(client.stub.VerifyPasskeyRegistration, r) for r in requests])
        assert codes(results) == {OK: 1, grpc.StatusCode.ALREADY_EXISTS: THREADS - 1}, results
        stored = rows(
            client.url,
            "SELECT user_id, state FROM passkeys WHERE credential_id = :c OR user_id IN ("
            + ",".join(f"'{p.user_id}'" for p in pendings)
            + ")",
            c=auth.credential_id,
        )
        winner = pendings[[code for code, _, _ in results].index(OK)].user_id
        assert sorted((r["user_id"] == winner, r["state"]) for r in stored) == [(False, 1)] * (THREADS - 1) + [
            (True, 2)
        ]
        events = assert_gap_free(client)
        assert {len(events[p.user_id]) for p in pendings} == {2, 3}
        assert len(events[winner]) == 3
        record("races", "same-credential-different-users-" + backend(client))


def test_concurrent_registrations_for_one_user(client: Client) -> None:
    for _ in range(ROUNDS):
        user_id = client.add_user()
        request = pb.RegisterPasskeyRequest(user_id=user_id)
        results = race([partial(client.stub.RegisterPasskey, request)] * THREADS)
        assert codes(results) == {OK: THREADS}, results
        responses = [response for _, _, response in results]
        assert len({r.passkey_id for r in responses}) == THREADS
        assert sorted(r.details.sequence for r in responses) == list(range(2, THREADS + 2))
        assert assert_gap_free(client)[user_id] == list(range(1, THREADS + 2))
        record("races", "register-one-user-" + backend(client))


def test_concurrent_verifies_of_different_passkeys_of_one_user(client: Client) -> None:
    """Each verify appends to the same user's events: they must still be 1..n, once each."""
    for _ in range(ROUNDS):
        user_id = client.add_user()
        register_and_verify(client, user_id, SoftAuthenticator())  # a READY one already there
        pendings = [client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id)) for _ in range(THREADS)]
        requests = []
        for started in pendings:
            challenge = b64decode(options_of(started)["challenge"])
            credential = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)
            requests.append(
                pb.VerifyPasskeyRegistrationRequest(
                    user_id=user_id,
                    passkey_id=started.passkey_id,
                    public_key_credential=as_struct(credential),
                    passkey_name="k",
                )
            )
        results = race([partial(client.stub.VerifyPasskeyRegistration, r) for r in requests])
        assert codes(results) == {OK: THREADS}, results
        assert sorted(response.details.sequence for _, _, response in results) == list(
            range(3 + THREADS + 1, 3 + 2 * THREADS + 1)
        )
        states = rows(client.url, "SELECT state FROM passkeys WHERE user_id = :u", u=user_id)
        assert [r["state"] for r in states] == [2] * (THREADS + 1)
        assert assert_gap_free(client)[user_id] == list(range(1, 3 + 2 * THREADS + 1))
        record("races", "verify-many-one-user-" + backend(client))


def test_concurrent_removals_and_registrations_of_one_user(client: Client) -> None:
    """RemovePasskey of the same passkey 16 times against 16 RegisterPasskey: one removal wins
    (NOT_FOUND for the others), every registration gets its own sequence."""
    for _ in range(ROUNDS):
        user_id = client.add_user()
        passkey_id, _ = register_and_verify(client, user_id, SoftAuthenticator())
        remove = pb.RemovePasskeyRequest(user_id=user_id, passkey_id=passkey_id)
        register = pb.RegisterPasskeyRequest(user_id=user_id)
        half = THREADS // 2
        results = race(
            [partial(client.stub.RemovePasskey, remove)] * half
            + [partial(client.stub.RegisterPasskey, register)] * half
        )
        assert codes(results[:half]) == {OK: 1, grpc.StatusCode.NOT_FOUND: half - 1}, results
        assert codes(results[half:]) == {OK: half}, results
        stored = rows(client.url, "SELECT id, state FROM passkeys WHERE user_id = :u", u=user_id)
        assert passkey_id not in {r["id"] for r in stored} and len(stored) == half
        assert assert_gap_free(client)[user_id] == list(range(1, 3 + 1 + half + 1))
        record("races", "remove-and-register-one-user-" + backend(client))
