"""PostgreSQL going away while the service runs (through a TCP proxy: the shared server itself
is never stopped): calls answer UNAVAILABLE within seconds instead of hanging, nothing half
done is left, and the service recovers by itself when the database is back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import grpc
import pytest
from sqlalchemy.engine import make_url
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.config import Settings
from tests.conftest import ORIGIN, RP_ID
from tests.support.databases import fresh_database
from tests.support.registration import pending_verify, rows
from tests.support.servers import Client, running
from tests.support.tcp_proxy import TcpProxy, tcp_proxy

pytestmark = pytest.mark.postgres

ANSWER_WITHIN_S = 5.0  # connect_timeout and pool_timeout are 3 s
# A hung database: the ping is cut after 1 s, then a new connection times out after 3 s.
HUNG_ANSWER_WITHIN_S = 6.0
RECOVER_WITHIN_S = 10.0


@pytest.fixture
def proxied(tmp_path) -> Iterator[tuple[Client, TcpProxy, str]]:
    """The service on a fresh PostgreSQL database reached only through the proxy; the direct URL."""
    with fresh_database("postgres", tmp_path) as direct:
        url = make_url(direct)
        with tcp_proxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
            via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
            settings = Settings(database_url=via_proxy, rp_id=RP_ID, origins=(ORIGIN,))
            with running(replace(settings, grpc_threads=8)) as client:
                yield client, proxy, direct


def unavailable_quickly(call: Callable[..., object], request: object, within: float = ANSWER_WITHIN_S) -> float:
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=30)  # far beyond the bound: a hang shows as DEADLINE_EXCEEDED
    took = time.monotonic() - started
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()
    assert took < within
    print(f"UNAVAILABLE after {took:.2f} s")
    return took


def eventually(call: Callable[[], object]) -> None:
    started = time.monotonic()
    while True:
        try:
            call()
            break
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE
            assert time.monotonic() - started < RECOVER_WITHIN_S, "no recovery"
            time.sleep(0.2)
    print(f"recovered after {time.monotonic() - started:.2f} s")


def test_database_down_is_unavailable_quickly_then_recovers(proxied) -> None:
    client, proxy, direct = proxied
    user_id, started, verify = pending_verify(client)
    events_before = rows(direct, "SELECT count(*) AS n FROM events")

    proxy.down()
    stub = client.stub
    unavailable_quickly(stub.ListPasskeys, pb.ListPasskeysRequest(user_id=user_id))
    unavailable_quickly(stub.RegisterPasskey, pb.RegisterPasskeyRequest(user_id=user_id))
    unavailable_quickly(stub.VerifyPasskeyRegistration, verify)
    new_user = pb.AddHumanUserRequest(profile={"given_name": "A", "family_name": "B"}, email={"email": "x@y.io"})
    unavailable_quickly(stub.AddHumanUser, new_user)
    assert rows(direct, "SELECT count(*) AS n FROM events") == events_before  # nothing half done

    proxy.up()
    eventually(lambda: stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id), timeout=10))
    stub.VerifyPasskeyRegistration(verify, timeout=10)
    assert rows(direct, "SELECT state FROM passkeys WHERE id = :id", id=started.passkey_id) == [{"state": 2}]


def test_a_hung_database_is_unavailable_quickly_then_recovers(proxied) -> None:
    client, proxy, direct = proxied
    user_id, started, verify = pending_verify(client)
    events_before = rows(direct, "SELECT count(*) AS n FROM events")

    proxy.freeze()
    stub = client.stub
    hung = HUNG_ANSWER_WITHIN_S
    unavailable_quickly(stub.ListPasskeys, pb.ListPasskeysRequest(user_id=user_id), hung)
    unavailable_quickly(stub.VerifyPasskeyRegistration, verify, hung)
    unavailable_quickly(stub.RegisterPasskey, pb.RegisterPasskeyRequest(user_id=user_id), hung)
    assert rows(direct, "SELECT count(*) AS n FROM events") == events_before

    proxy.up()
    eventually(lambda: stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id), timeout=10))
    stub.VerifyPasskeyRegistration(verify, timeout=10)
    assert rows(direct, "SELECT state FROM passkeys WHERE id = :id", id=started.passkey_id) == [{"state": 2}]


@pytest.mark.parametrize("outage", ["down", "hung"])
def test_serve_with_the_database_unreachable_says_so_and_exits(tmp_path, outage: str) -> None:
    with fresh_database("postgres", tmp_path) as direct, tcp_proxy(("127.0.0.1", 5432)) as proxy:
        proxy.down() if outage == "down" else proxy.freeze()
        url = make_url(direct).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PASSKEYS_")}
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "passkeys", "serve"],
            env={**env, "PASSKEYS_DATABASE_URL": url, "PASSKEYS_GRPC_ADDR": "127.0.0.1:0", "PASSKEYS_METRICS_ADDR": ""},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        took = time.monotonic() - started
    assert proc.returncode == 1
    assert proc.stderr.startswith("passkeys: cannot reach the database:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert took < 15  # the connect timeout (3 s), maybe twice, plus the start of Python
