"""Limits: a message over the gRPC receive limit is refused before it is parsed, and a client
that trickles a request holds a worker thread only until its connection's age and grace end."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.config import Settings
from passkeys.limits import MAX_CREDENTIAL_JSON, MAX_REQUEST_BYTES
from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.databases import snapshot
from tests.support.registration import as_struct, b64decode, options_of
from tests.support.servers import Client, running
from tests.support.slow_client import SlowClient

AGE_S, GRACE_S = 2, 1
THREADS = 2


def verify_request(client: Client, size: int) -> pb.VerifyPasskeyRegistrationRequest:
    """A verify of a pending passkey whose serialized request is exactly `size` bytes."""
    user_id = client.add_user()
    started = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
    credential = SoftAuthenticator().register(
        challenge=b64decode(options_of(started)["challenge"]), origin=ORIGIN, rp_id=RP_ID
    )
    pad = size
    while True:
        request = pb.VerifyPasskeyRegistrationRequest(
            user_id=user_id,
            passkey_id=started.passkey_id,
            public_key_credential=as_struct(dict(credential, padding="x" * pad)),
            passkey_name="k",
        )
        if request.ByteSize() == size:
            return request
        pad += size - request.ByteSize()
        assert pad > 0


def test_a_message_over_the_receive_limit_is_resource_exhausted_and_stores_nothing(client: Client) -> None:
    over = verify_request(client, MAX_REQUEST_BYTES + 1)
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as err:
        client.stub.VerifyPasskeyRegistration(over, timeout=10)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert snapshot(client.url) == before


def test_a_message_at_the_receive_limit_reaches_the_credential_length_check(client: Client) -> None:
    # The gRPC limit leaves room for the largest credential; this one is over it, so it is
    # refused by the credential check, by name, and nothing is stored.
    at_limit = verify_request(client, MAX_REQUEST_BYTES)
    assert MAX_REQUEST_BYTES > MAX_CREDENTIAL_JSON
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as err:
        client.stub.VerifyPasskeyRegistration(at_limit, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(MAX_CREDENTIAL_JSON) in err.value.details()
    assert snapshot(client.url) == before


@pytest.fixture
def short_lived(settings: Settings) -> Iterator[Client]:
    """Two worker threads; connections closed after 2 s of age and 1 s of grace."""
    with running(replace(settings, grpc_threads=THREADS, max_connection_age_s=AGE_S, connection_grace_s=GRACE_S)) as c:
        yield c


def list_request(user_id: str) -> bytes:
    return pb.ListPasskeysRequest(user_id=user_id).SerializeToString()


def test_a_trickling_client_is_cut_off_after_age_and_grace_and_others_are_served(short_lived: Client) -> None:
    client = short_lived
    user_id = client.add_user()
    slow = SlowClient(client.port, "/zitadel.user.v2.UserService/ListPasskeys", list_request(user_id) * 20)
    trickler = threading.Thread(target=slow.trickle, kwargs={"every_s": 0.1, "until_s": 30})
    trickler.start()
    try:
        # Meanwhile the other thread serves everyone else, promptly.
        for _ in range(10):
            started = time.monotonic()
            client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id), timeout=5)
            assert time.monotonic() - started < 0.5
            time.sleep(0.1)
        trickler.join(15)
    finally:
        slow.close()
    assert slow.goaway_at is not None, "no GOAWAY"
    assert slow.closed_at is not None
    held = slow.closed_at - slow.opened_at
    # gRPC adds up to 10 % of jitter to the age.
    assert AGE_S * 0.9 + GRACE_S - 0.2 < held < AGE_S * 1.1 + GRACE_S + 1.5, held
    assert slow.sent < len(slow.body) - 1, "the request was never complete"


def test_trickling_clients_on_every_thread_delay_others_at_most_age_and_grace(short_lived: Client) -> None:
    # Found: grpc's sync server waits for a unary request's last byte on a worker thread, so
    # as many tricklers as threads stall the server, but only until their connections end.
    client = short_lived
    user_id = client.add_user()
    slows = [
        SlowClient(client.port, "/zitadel.user.v2.UserService/ListPasskeys", list_request(user_id) * 20)
        for _ in range(THREADS)
    ]
    tricklers = [threading.Thread(target=s.trickle, kwargs={"every_s": 0.1, "until_s": 30}) for s in slows]
    for t in tricklers:
        t.start()
    time.sleep(0.3)
    started = time.monotonic()
    retries = 0
    try:
        while True:
            try:
                client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id), timeout=AGE_S * 1.1 + GRACE_S + 5)
                break
            except grpc.RpcError as exc:
                # Our own connection may reach its age while our call waits for a thread: it is
                # UNAVAILABLE then, which clients retry.
                assert exc.code() == grpc.StatusCode.UNAVAILABLE and retries < 3, exc
                retries += 1
        waited = time.monotonic() - started
    finally:
        for s in slows:
            s.close()
        for t in tricklers:
            t.join(15)
    assert waited < AGE_S * 1.1 + GRACE_S + 1.5, waited
