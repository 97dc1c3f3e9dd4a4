"""Authentication, the decision order, registration codes and links, against the real server."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.auth.permissions import ORG_USER_MANAGER
from passkeys.commands import admin
from passkeys.commands.links import open_link
from passkeys.config import Settings
from passkeys.details import now
from passkeys.sealing import Sealer
from passkeys.sealing_key import decode_key
from passkeys.store.db import Database
from passkeys.store.outbox import Message
from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.databases import snapshot
from tests.support.oidc import AUDIENCE, ISSUER, HangingIssuer, Issuer
from tests.support.refusals import reason_of
from tests.support.registration import as_struct, b64decode, options_of, rows
from tests.support.servers import Client, running


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return Issuer.create(tmp_path)


@pytest.fixture
def client(settings: Settings, issuer: Issuer) -> Iterator[Client]:
    configured = replace(settings, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwks_path=str(issuer.jwks_path))
    with running(configured) as c:
        yield c


def call_code(fn: object, request: object, **kw: object) -> grpc.StatusCode:
    try:
        fn(request, **kw)  # type: ignore[operator]
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def manager_token(client: Client, org_id: str) -> str:
    db = Database(client.url)
    try:
        with db.write() as s:
            uid = admin.create_machine_user(s, org_id=org_id, name=f"m{secrets.token_hex(4)}")
            admin.grant_role(s, user_id=uid, role=ORG_USER_MANAGER, org_id=org_id)
            return admin.create_token(s, user_id=uid, expires_at=now() + timedelta(hours=1)).token
    finally:
        db.dispose()


def new_org(client: Client) -> str:
    db = Database(client.url)
    try:
        with db.write() as s:
            return admin.create_org(s, name="org", domain=f"o{secrets.token_hex(4)}.example")
    finally:
        db.dispose()


@pytest.mark.parametrize(
    "authorization",
    ["", "Basic abc", "Bearer", "Bearer pat_unknown", "Bearer a.b.c", "Bearer x:y", "bearer  pat_nope"],
)
def test_bad_authorization_is_unauthenticated_before_arguments(client: Client, authorization: str) -> None:
    metadata = (("authorization", authorization),) if authorization else ()
    # An argument that would be INVALID_ARGUMENT: authentication comes first.
    with pytest.raises(grpc.RpcError) as err:
        client.stub_for(None).ListPasskeys(pb.ListPasskeysRequest(user_id=""), metadata=metadata)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_health_and_reflection_need_no_token(client: Client) -> None:
    health = health_pb2_grpc.HealthStub(client.channel)
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"expires_in": -120}, "TOKEN_EXPIRED"),
        ({"iss": "https://evil.example.com"}, "TOKEN_INVALID"),
        ({"aud": "someone-else"}, "TOKEN_INVALID"),
        ({"kid": "unknown"}, "TOKEN_INVALID"),
        ({"foreign_key": True}, "TOKEN_INVALID"),
        ({"unknown_sub": True}, "TOKEN_INVALID"),
    ],
)
def test_a_jwt_is_checked(client: Client, issuer: Issuer, tmp_path: Path, change: dict, reason: str) -> None:
    user_id = client.add_user()
    change = dict(change)  # the parameter is shared between the database runs
    if change.pop("foreign_key", False):
        (tmp_path / "other").mkdir()
        issuer = Issuer.create(tmp_path / "other", kid=issuer.kid)  # same kid, another key
    if change.pop("unknown_sub", False):
        user_id = "nobody"
    token = issuer.token(user_id, **change)
    with pytest.raises(grpc.RpcError) as err:
        client.stub_for(token).ListPasskeys(pb.ListPasskeysRequest(user_id=user_id))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason_of(err.value) == reason


@pytest.mark.parametrize("sub", ["ab\x00c", "\x00", "a\nb", "a\x1bb", "a\x9bb", "a\u202eb", " a", "a" * 300])
def test_a_jwt_sub_with_nul_or_controls_is_unauthenticated(client: Client, issuer: Issuer, sub: str) -> None:
    # Refused before the database is asked (PostgreSQL answered INTERNAL for NUL).
    with pytest.raises(grpc.RpcError) as err:
        client.stub_for(issuer.token(sub)).ListPasskeys(pb.ListPasskeysRequest(user_id="x"))
    assert (err.value.code(), reason_of(err.value)) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


def test_decision_order_leaks_nothing(client: Client, issuer: Issuer) -> None:
    alice = client.add_user()
    bob = client.add_user()
    bobs_key = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=bob)).passkey_id
    owner = client.stub
    org_a = client.stub.AddHumanUser(
        pb.AddHumanUserRequest(profile={"given_name": "C", "family_name": "D"}, email={"email": "c@d.example"})
    ).details.resource_owner
    same = client.stub_for(manager_token(client, org_a))
    other = client.stub_for(manager_token(client, new_org(client)))
    as_alice = client.stub_for(issuer.token(alice))
    missing = pb.ListPasskeysRequest(user_id="nobody")
    # A missing user: NOT_FOUND only for rights over every organization.
    assert call_code(owner.ListPasskeys, missing) == grpc.StatusCode.NOT_FOUND
    assert call_code(same.ListPasskeys, missing) == grpc.StatusCode.PERMISSION_DENIED
    assert call_code(other.ListPasskeys, missing) == grpc.StatusCode.PERMISSION_DENIED
    assert call_code(as_alice.ListPasskeys, missing) == grpc.StatusCode.PERMISSION_DENIED
    assert call_code(client.stub_for(None).ListPasskeys, missing) == grpc.StatusCode.UNAUTHENTICATED
    # Someone else's user, existing: PERMISSION_DENIED, as for a missing one.
    assert call_code(other.ListPasskeys, pb.ListPasskeysRequest(user_id=alice)) == grpc.StatusCode.PERMISSION_DENIED
    # Another user's passkey_id, or none at all: NOT_FOUND to whoever may act on the user.
    for stub in (owner, same, as_alice):
        for passkey_id in (bobs_key, "nothing"):
            with pytest.raises(grpc.RpcError) as err:
                stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=alice, passkey_id=passkey_id))
            assert err.value.code() == grpc.StatusCode.NOT_FOUND
            assert reason_of(err.value) == "PASSKEY_NOT_FOUND"


def test_a_new_user_enrols_their_first_passkey_with_a_code_alone(client: Client) -> None:
    user_id = client.add_user()
    link = client.stub.CreatePasskeyRegistrationLink(
        pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, return_code={})
    )
    assert re.fullmatch(r"[A-Za-z0-9]{12}", link.code.code)
    # Stored only hashed.
    assert link.code.code not in repr(snapshot(client.url))
    anonymous = client.stub_for(None)
    started = anonymous.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, code=link.code))
    challenge = b64decode(options_of(started)["challenge"])
    credential = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)
    proof = (("authorization", f"Bearer {link.code.id}:{link.code.code}"),)
    verified = anonymous.VerifyPasskeyRegistration(
        pb.VerifyPasskeyRegistrationRequest(
            user_id=user_id,
            passkey_id=started.passkey_id,
            public_key_credential=as_struct(credential),
            passkey_name="k",
        ),
        metadata=proof,
    )
    assert verified.details.sequence == 4  # added, code added, passkey added, verified
    listed = client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result
    assert [(p.id, p.state) for p in listed] == [(started.passkey_id, 2)]
    # Single use.
    with pytest.raises(grpc.RpcError) as err:
        anonymous.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, code=link.code))
    assert (err.value.code(), reason_of(err.value)) == (grpc.StatusCode.UNAUTHENTICATED, "CODE_USED")


def test_a_code_is_invalid_after_three_wrong_tries(client: Client) -> None:
    user_id = client.add_user()
    code = client.stub.CreatePasskeyRegistrationLink(
        pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, return_code={})
    ).code
    anonymous = client.stub_for(None)
    wrong = type(code)(id=code.id, code="0" * 12 if code.code != "0" * 12 else "1" * 12)
    for _ in range(3):
        with pytest.raises(grpc.RpcError) as err:
            anonymous.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, code=wrong))
        assert reason_of(err.value) == "CODE_INVALID"
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as err:
        anonymous.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, code=code))
    assert (err.value.code(), reason_of(err.value)) == (grpc.StatusCode.UNAUTHENTICATED, "CODE_INVALID")
    assert snapshot(client.url) == before
    assert rows(client.url, "SELECT failed_attempts FROM registration_codes") == [{"failed_attempts": 3}]


def test_send_link_puts_the_rendered_link_in_the_outbox(client: Client) -> None:
    user_id = client.add_user(email="eve@example.com")
    template = "https://login.example.com/passkey?u={{.UserID}}&o={{.OrgID}}&i={{.CodeID}}&c={{.Code}}"
    sent = client.stub.CreatePasskeyRegistrationLink(
        pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, send_link={"url_template": template})
    )
    assert not sent.HasField("code")
    [message] = rows(client.url, "SELECT id, user_id, kind, recipient, body, created_at, sent_at FROM outbox")
    assert message["recipient"] == "eve@example.com"
    assert message["sent_at"] is None
    link = open_link(
        Sealer(decode_key(client.settings.outbox_key)), Message(**{k: v for k, v in message.items() if k != "sent_at"})
    )
    query = parse_qs(urlsplit(link).query)
    assert query["u"] == [user_id]
    assert query["o"] == [sent.details.resource_owner]
    # The link's code works once.
    code = type(pb.RegisterPasskeyRequest().code)(id=query["i"][0], code=query["c"][0])
    client.stub_for(None).RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, code=code))


def test_a_template_with_unknown_placeholders_is_refused(client: Client) -> None:
    user_id = client.add_user()
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as err:
        client.stub.CreatePasskeyRegistrationLink(
            pb.CreatePasskeyRegistrationLinkRequest(
                user_id=user_id, send_link={"url_template": "https://x.example/{{.Password}}"}
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert snapshot(client.url) == before


def test_details_name_the_users_organization(client: Client) -> None:
    org_b = new_org(client)
    added = client.stub.AddHumanUser(
        pb.AddHumanUserRequest(
            profile={"given_name": "A", "family_name": "B"},
            email={"email": "b@b.example"},
            organization={"org_id": org_b},
        )
    )
    assert added.details.resource_owner == org_b
    manager = client.stub_for(manager_token(client, org_b))
    started = manager.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=added.user_id))
    link = manager.CreatePasskeyRegistrationLink(
        pb.CreatePasskeyRegistrationLinkRequest(user_id=added.user_id, return_code={})
    )
    removed = manager.RemovePasskey(pb.RemovePasskeyRequest(user_id=added.user_id, passkey_id=started.passkey_id))
    assert {started.details.resource_owner, link.details.resource_owner, removed.details.resource_owner} == {org_b}
    assert rows(client.url, "SELECT DISTINCT resource_owner FROM events WHERE user_id = :u", u=added.user_id) == [
        {"resource_owner": org_b}
    ]


def test_an_org_manager_adds_users_only_to_their_organization(client: Client) -> None:
    org_b = new_org(client)
    manager = client.stub_for(manager_token(client, org_b))
    request = pb.AddHumanUserRequest(profile={"given_name": "A", "family_name": "B"}, email={"email": "x@y.example"})
    assert call_code(manager.AddHumanUser, request) == grpc.StatusCode.PERMISSION_DENIED  # default org
    request.organization.org_id = org_b
    assert call_code(manager.AddHumanUser, request) == grpc.StatusCode.OK
    request.organization.org_id = "missing"
    assert call_code(manager.AddHumanUser, request) == grpc.StatusCode.PERMISSION_DENIED
    assert call_code(client.stub.AddHumanUser, request) == grpc.StatusCode.NOT_FOUND


def test_admin_token_is_stored_only_as_a_hash(client: Client) -> None:
    assert client.admin_token not in repr(snapshot(client.url))
    [row] = rows(client.url, "SELECT token_hash FROM access_tokens")
    assert len(row["token_hash"]) == 64


@contextmanager
def serving_folder(folder: Path) -> Iterator[str]:
    """A real HTTP server on a loopback port, serving `folder`."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_jwt_keys_from_a_jwks_url(settings: Settings, issuer: Issuer) -> None:
    with serving_folder(issuer.jwks_path.parent) as base:
        configured = replace(settings, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwks_url=f"{base}/jwks.json")
        with running(configured) as client:
            user_id = client.add_user()
            listed = client.stub_for(issuer.token(user_id)).ListPasskeys(pb.ListPasskeysRequest(user_id=user_id))
            assert listed.details.total_result == 0
            with pytest.raises(grpc.RpcError) as err:
                client.stub_for(issuer.token(user_id, kid="rotated-away")).ListPasskeys(
                    pb.ListPasskeysRequest(user_id=user_id)
                )
            assert (err.value.code(), reason_of(err.value)) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


def test_an_unreachable_jwks_url_is_unavailable(settings: Settings, issuer: Issuer) -> None:
    with serving_folder(issuer.jwks_path.parent) as base:
        pass  # the port is closed again: nothing listens there now
    configured = replace(settings, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwks_url=f"{base}/jwks.json")
    with running(configured) as client:
        user_id = client.add_user()
        with pytest.raises(grpc.RpcError) as err:
            client.stub_for(issuer.token(user_id)).ListPasskeys(pb.ListPasskeysRequest(user_id=user_id))
        assert (err.value.code(), reason_of(err.value)) == (grpc.StatusCode.UNAVAILABLE, "JWKS_UNAVAILABLE")


def test_a_hung_jwks_endpoint_holds_no_threads_and_pat_callers_are_served(settings: Settings, issuer: Issuer) -> None:
    hung = HangingIssuer()
    configured = replace(settings, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwks_url=hung.url, grpc_threads=4)
    try:
        with running(configured) as client:
            user_id = client.add_user()
            stop = threading.Event()
            jwt_codes: list[grpc.StatusCode] = []

            def random_kids() -> None:
                while not stop.is_set():
                    token = issuer.token(user_id, kid=secrets.token_hex(8))
                    code = call_code(
                        client.stub_for(token).ListPasskeys, pb.ListPasskeysRequest(user_id=user_id), timeout=10
                    )
                    jwt_codes.append(code)

            attackers = [threading.Thread(target=random_kids) for _ in range(12)]
            for thread in attackers:
                thread.start()
            try:
                latencies = []
                for _ in range(30):
                    started = time.monotonic()
                    client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id), timeout=2)
                    latencies.append(time.monotonic() - started)
                    time.sleep(0.05)
            finally:
                stop.set()
                for thread in attackers:
                    thread.join()
            # PAT callers never wait for the issuer (a fetch times out after 2 s; the wait for one, 1 s).
            assert max(latencies) < 0.5, sorted(latencies)[-5:]
            assert set(jwt_codes) == {grpc.StatusCode.UNAVAILABLE}, set(jwt_codes)
            # One fetch at a time, and a failed one starts a cooldown: a handful in all.
            assert hung.most_at_once == 1
            assert 1 <= hung.connections <= 2
    finally:
        hung.close()
