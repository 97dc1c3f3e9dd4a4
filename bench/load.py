"""The load generator: a separate process that drives one running service and prints one JSON
line per measured cell.

Reads a JSON plan on stdin ({"grpc": addr, "http": addr, "token": ..., "cells": [...]}); each
cell names a transport (grpc, rest, grpc-web; peer: one of the minimal endpoints of
bench/peers, JSON over HTTP/1.1 on "http", with no gRPC and no users to add), a mode (verify:
only VerifyPasskeyRegistration of registrations prepared before the timed window; full:
RegisterPasskey, sign, Verify inside it; big: verify of ~1 MiB credentials; signin: CreateSession
+ sign the assertion + SetSession of users with a READY passkey; setsession: only SetSession, the
sessions created and their assertions signed before the timed window), a concurrency and a count.
Every answer is checked
(status, and the details' sequence of a verify); only answered, successful calls are counted.
With "cpu_pids" in the plan, each cell also gives the CPU time those processes used in its
timed window, read at both ends from every thread's schedstat (nanoseconds, no sampling).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2
from zitadel.session.v2 import session_service_pb2 as spb
from zitadel.session.v2 import session_service_pb2_grpc as spb_grpc
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from tests.support.authenticator import SoftAuthenticator
from tests.support.grpc_web import frame, unframe

RP_ID = "localhost"
ORIGIN = "http://localhost:8080"
ATTESTATION = "packed"
# A padded credential stays under the service's 1,048,576-character limit.
BIG_PAD = 1_048_576 - 4096
CREDS_PER_USER = 4
SERVICE = "/zitadel.user.v2.UserService"
SIGNIN_MODES = ("signin", "setsession")
WEBAUTHN_CHALLENGE = {"domain": RP_ID, "user_verification_requirement": "USER_VERIFICATION_REQUIREMENT_REQUIRED"}
CHANNELS = 8  # gRPC connections per load run, so that SO_REUSEPORT workers all get some


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def sign(challenge: bytes, *, pad: int = 0) -> dict[str, Any]:
    credential = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, attestation=ATTESTATION)
    if pad:
        credential["padding"] = "x" * pad  # an extra field: parsed, then ignored by the server
    return credential


@dataclass
class Pending:
    user_id: str
    passkey_id: str
    challenge: bytes


@dataclass
class Enrolled:
    """A user with one READY passkey held by `auth`."""

    user_id: str
    auth: SoftAuthenticator


@dataclass
class Session:
    session_id: str
    token: str
    challenge: bytes


class Failed(Exception):
    """An answer that was not the expected success."""


def assertion(user: Enrolled, challenge: bytes) -> dict[str, Any]:
    """Sign count 0 on every assertion: allowed while the stored count is 0 (the registration's)."""
    return user.auth.authenticate(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, user_handle=user.user_id.encode())


def _session_of(reply: spb.CreateSessionResponse) -> Session:
    if not reply.session_id or not reply.session_token or reply.details.sequence < 1:
        raise Failed("CreateSession answered no session, token or sequence")
    options = json_format.MessageToDict(reply.challenges.web_auth_n.public_key_credential_request_options)
    return Session(reply.session_id, reply.session_token, b64decode(options["publicKey"]["challenge"]))


def _set_checked(session: Session, token: str, sequence: int) -> None:
    # A sign-in that worked answers a new token and the session's second change.
    if not token or token == session.token or sequence < 2:
        raise Failed(f"SetSession answered token changed={token != session.token}, sequence {sequence}")


def _pending_of(user_id: str, reply: pb.RegisterPasskeyResponse) -> Pending:
    """The protobuf transports' RegisterPasskey answer, checked."""
    if not reply.passkey_id or reply.details.sequence < 1:
        raise Failed("RegisterPasskey answered no passkey id or sequence")
    options = json_format.MessageToDict(reply.public_key_credential_creation_options)
    return Pending(user_id, reply.passkey_id, b64decode(options["publicKey"]["challenge"]))


def _verify_request(pending: Pending, credential: dict[str, Any]) -> pb.VerifyPasskeyRegistrationRequest:
    struct = struct_pb2.Struct()
    struct.update(credential)
    return pb.VerifyPasskeyRegistrationRequest(
        user_id=pending.user_id, passkey_id=pending.passkey_id, public_key_credential=struct, passkey_name="bench"
    )


class Grpc:
    def __init__(self, addr: str, token: str) -> None:
        # Distinct subchannel pools: each channel its own TCP connection.
        self.channels = [
            grpc.aio.insecure_channel(
                addr,
                options=[
                    ("grpc.use_local_subchannel_pool", 1),
                    ("grpc.max_send_message_length", 4 << 20),
                ],
            )
            for _ in range(CHANNELS)
        ]
        self.stubs = [pb_grpc.UserServiceStub(c) for c in self.channels]
        self.sessions = [spb_grpc.SessionServiceStub(c) for c in self.channels]
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.turn = 0

    def _stub(self) -> pb_grpc.UserServiceStub:
        self.turn += 1
        return self.stubs[self.turn % len(self.stubs)]

    async def add_user(self, n: int) -> str:
        request = pb.AddHumanUserRequest(
            profile={"given_name": "Bench", "family_name": "User"},
            email={"email": f"bench{n}-{secrets.token_hex(6)}@example.com"},
        )
        reply = await self._stub().AddHumanUser(request, metadata=self.metadata, timeout=60)
        return reply.user_id

    async def register(self, user_id: str) -> Pending:
        reply = await self._stub().RegisterPasskey(
            pb.RegisterPasskeyRequest(user_id=user_id), metadata=self.metadata, timeout=60
        )
        return _pending_of(user_id, reply)

    async def verify(self, pending: Pending, credential: dict[str, Any]) -> None:
        request = _verify_request(pending, credential)
        reply = await self._stub().VerifyPasskeyRegistration(request, metadata=self.metadata, timeout=60)
        if reply.details.sequence < 2:
            raise Failed(f"VerifyPasskeyRegistration answered sequence {reply.details.sequence}")

    async def create_session(self, user_id: str) -> Session:
        self.turn += 1
        request = spb.CreateSessionRequest(
            checks=spb.Checks(user={"user_id": user_id}), challenges={"web_auth_n": WEBAUTHN_CHALLENGE}
        )
        reply = await self.sessions[self.turn % len(self.sessions)].CreateSession(
            request, metadata=self.metadata, timeout=60
        )
        return _session_of(reply)

    async def set_session(self, session: Session, credential: dict[str, Any]) -> None:
        self.turn += 1
        struct = struct_pb2.Struct()
        struct.update(credential)
        request = spb.SetSessionRequest(
            session_id=session.session_id, checks=spb.Checks(web_auth_n={"credential_assertion_data": struct})
        )
        reply = await self.sessions[self.turn % len(self.sessions)].SetSession(
            request, metadata=self.metadata, timeout=60
        )
        _set_checked(session, reply.session_token, reply.details.sequence)

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


class Http:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost far less CPU than the
    service it measures (httpx cost 2-13 ms of CPU per call at 16-64 connections here)."""

    def __init__(self, addr: str, token: str) -> None:
        self.host, _, port = addr.rpartition(":")
        self.port = int(port)
        self.auth = f"Bearer {token}"
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened: list[asyncio.StreamWriter] = []

    async def post(
        self, path: str, body: bytes, content_type: str, method: str = "POST"
    ) -> tuple[int, dict[str, str], bytes]:
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened.append(writer)
        writer.write(
            f"{method} {path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\nauthorization: {self.auth}\r\n"
            f"content-type: {content_type}\r\nx-grpc-web: 1\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            payload = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            # Trailer fields (none from Envoy) end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            payload = b"".join(chunks)
        else:
            raise Failed(f"HTTP answer without a length: {head[:200]!r}")
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer))
        return int(status_line.split(" ", 2)[1]), headers, payload

    async def close(self) -> None:
        for writer in self.opened:
            writer.close()


class Rest:
    def __init__(self, addr: str, token: str) -> None:
        self.http = Http(addr, token)

    async def _post(self, path: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
        status, _, payload = await self.http.post(path, json.dumps(body).encode(), "application/json", method)
        if status != 200:
            raise Failed(f"REST {method} {path}: HTTP {status} {payload[:200]!r}")
        return json.loads(payload)

    async def create_session(self, user_id: str) -> Session:
        body = await self._post(
            "/v2/sessions",
            {
                "checks": {"user": {"userId": user_id}},
                "challenges": {
                    "webAuthN": {
                        "domain": RP_ID,
                        "userVerificationRequirement": WEBAUTHN_CHALLENGE["user_verification_requirement"],
                    }
                },
            },
        )
        if int(body["details"]["sequence"]) < 1 or not body.get("sessionToken"):
            raise Failed("REST CreateSession answered no token or sequence")
        options = body["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"]["publicKey"]
        return Session(body["sessionId"], body["sessionToken"], b64decode(options["challenge"]))

    async def set_session(self, session: Session, credential: dict[str, Any]) -> None:
        body = await self._post(
            f"/v2/sessions/{session.session_id}",
            {"checks": {"webAuthN": {"credentialAssertionData": credential}}},
            "PATCH",
        )
        _set_checked(session, body.get("sessionToken", ""), int(body["details"]["sequence"]))

    async def register(self, user_id: str) -> Pending:
        body = await self._post(f"/v2/users/{user_id}/passkeys", {})
        options = body["publicKeyCredentialCreationOptions"]["publicKey"]
        return Pending(user_id, body["passkeyId"], b64decode(options["challenge"]))

    async def verify(self, pending: Pending, credential: dict[str, Any]) -> None:
        body = await self._post(
            f"/v2/users/{pending.user_id}/passkeys/{pending.passkey_id}",
            {"passkeyName": "bench", "publicKeyCredential": credential},
        )
        if int(body["details"]["sequence"]) < 2:
            raise Failed("REST VerifyPasskeyRegistration answered no sequence")

    async def close(self) -> None:
        await self.http.close()


class Peer(Rest):
    """A minimal endpoint of bench/peers: our REST paths and RegisterPasskey's answer, and
    {"passkeyId": ..., "verified": true} for a verify."""

    async def verify(self, pending: Pending, credential: dict[str, Any]) -> None:
        body = await self._post(
            f"/v2/users/{pending.user_id}/passkeys/{pending.passkey_id}",
            {"passkeyName": "bench", "publicKeyCredential": credential},
        )
        if body != {"passkeyId": pending.passkey_id, "verified": True}:
            raise Failed(f"peer verify answered {str(body)[:200]}")


class GrpcWeb(Rest):
    """grpc-web (binary) framed by hand over HTTP/1.1."""

    async def _call(self, method: str, request: Any, reply_type: Any) -> Any:
        http_status, headers, body = await self.http.post(
            f"{SERVICE}/{method}", frame(request.SerializeToString()), "application/grpc-web+proto"
        )
        messages, trailers = unframe(body)
        status = trailers.get("grpc-status", headers.get("grpc-status"))
        if http_status != 200 or status != "0" or len(messages) != 1:
            raise Failed(f"grpc-web {method}: HTTP {http_status} grpc-status {status}")
        return reply_type.FromString(messages[0])

    async def register(self, user_id: str) -> Pending:
        reply = await self._call(
            "RegisterPasskey", pb.RegisterPasskeyRequest(user_id=user_id), pb.RegisterPasskeyResponse
        )
        return _pending_of(user_id, reply)

    async def verify(self, pending: Pending, credential: dict[str, Any]) -> None:
        request = _verify_request(pending, credential)
        reply = await self._call("VerifyPasskeyRegistration", request, pb.VerifyPasskeyRegistrationResponse)
        if reply.details.sequence < 2:
            raise Failed("grpc-web VerifyPasskeyRegistration answered no sequence")


async def _pool(concurrency: int, jobs: list[Callable[[], Awaitable[None]]]) -> tuple[list[float], list[str]]:
    """Runs the jobs `concurrency` at a time; latencies of the successes, messages of failures."""
    latencies: list[float] = []
    errors: list[str] = []
    queue = iter(jobs)

    async def runner() -> None:
        for job in queue:
            start = time.perf_counter()
            try:
                await job()
            except (Failed, grpc.RpcError, OSError, asyncio.IncompleteReadError, KeyError, ValueError) as exc:
                errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
                continue
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(runner() for _ in range(concurrency)))
    return latencies, errors


def cpu_time_s(pids: list[int]) -> float:
    """On-CPU time so far of every thread of these processes (a thread that ends takes its time along)."""
    total = 0
    for pid in pids:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
            except (OSError, IndexError, ValueError):
                continue  # the thread ended between the listing and the read
    return total / 1e9


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def _users(setup: Grpc, count: int) -> list[str]:
    users: list[str] = []
    numbers = iter(range(count))

    async def make() -> None:
        for n in numbers:
            users.append(await setup.add_user(n))

    await asyncio.gather(*(make() for _ in range(16)))
    return users


async def _prepare(setup: Grpc | Rest, users: list[str], count: int, pad: int) -> list[tuple[Pending, dict[str, Any]]]:
    """Registrations started (by `setup`, for these users in turn) and signed before the timed window."""
    started: list[Pending] = []
    targets = iter(range(count))

    async def make() -> None:
        for n in targets:
            started.append(await setup.register(users[n % len(users)]))

    await asyncio.gather(*(make() for _ in range(16)))
    return [(p, sign(p.challenge, pad=pad)) for p in started]


async def _enrolled(setup: Grpc, count: int) -> list[Enrolled]:
    """Users with one READY passkey each, registered and verified over gRPC."""
    enrolled: list[Enrolled] = []
    numbers = iter(range(count))

    async def make() -> None:
        for n in numbers:
            user_id = await setup.add_user(n)
            pending = await setup.register(user_id)
            auth = SoftAuthenticator()
            credential = auth.register(challenge=pending.challenge, origin=ORIGIN, rp_id=RP_ID, attestation=ATTESTATION)
            await setup.verify(pending, credential)
            enrolled.append(Enrolled(user_id, auth))

    await asyncio.gather(*(make() for _ in range(16)))
    return enrolled


async def _signin_jobs(client: Grpc | Rest, setup: Grpc, mode: str, total: int) -> list[Callable[[], Awaitable[None]]]:
    users = await _enrolled(setup, max(1, total // CREDS_PER_USER))
    if mode == "signin":

        def signin(user: Enrolled) -> Callable[[], Awaitable[None]]:
            async def job() -> None:
                session = await client.create_session(user.user_id)
                await client.set_session(session, assertion(user, session.challenge))

            return job

        return [signin(users[n % len(users)]) for n in range(total)]
    # setsession: sessions created (over gRPC) and assertions signed before the timed window.
    sessions: list[tuple[Session, dict[str, Any]]] = []
    targets = iter(range(total))

    async def make() -> None:
        for n in targets:
            user = users[n % len(users)]
            session = await setup.create_session(user.user_id)
            sessions.append((session, assertion(user, session.challenge)))

    await asyncio.gather(*(make() for _ in range(16)))
    return [_set_job(client, s, a) for s, a in sessions]


def _set_job(client: Grpc | Rest, session: Session, credential: dict[str, Any]) -> Callable[[], Awaitable[None]]:
    return lambda: client.set_session(session, credential)


def _client(plan: dict[str, Any], transport: str) -> Grpc | Rest:
    if transport == "grpc":
        return Grpc(plan["grpc"], plan["token"])
    kinds: dict[str, type[Rest]] = {"rest": Rest, "grpc-web": GrpcWeb, "peer": Peer}
    return kinds[transport](plan["http"], plan["token"])


async def run_cell(plan: dict[str, Any], cell: dict[str, Any], setup: Grpc | None) -> dict[str, Any]:
    transport, mode, concurrency, count = cell["transport"], cell["mode"], cell["concurrency"], cell["count"]
    warm = cell.get("warm", concurrency)
    client = _client(plan, transport)
    try:
        jobs: list[Callable[[], Awaitable[None]]]
        if transport == "peer":
            # A peer has no users to add: any user id starts a registration.
            users = [f"bench-{secrets.token_hex(4)}-{n}" for n in range(max(1, (count + warm) // CREDS_PER_USER))]
            prepared = await _prepare(client, users, count + warm, 0)
            jobs = [_verify_job(client, p, c) for p, c in prepared]
        elif setup is None:
            raise Failed(f"a {transport} cell needs our service's gRPC address in the plan")
        elif mode in SIGNIN_MODES:
            if transport not in ("grpc", "rest"):
                raise Failed(f"sign-in cells are gRPC or REST, not {transport}")
            jobs = await _signin_jobs(client, setup, mode, count + warm)
        elif mode == "full":
            users = await _users(setup, max(1, count // CREDS_PER_USER))

            def full(user_id: str) -> Callable[[], Awaitable[None]]:
                async def job() -> None:
                    pending = await client.register(user_id)
                    await client.verify(pending, sign(pending.challenge))

                return job

            jobs = [full(users[n % len(users)]) for n in range(count + warm)]
        else:
            users = await _users(setup, max(1, (count + warm) // CREDS_PER_USER))
            prepared = await _prepare(setup, users, count + warm, BIG_PAD if mode == "big" else 0)
            jobs = [_verify_job(client, p, c) for p, c in prepared]
        # Untimed calls first (one per concurrent caller opens every connection).
        _, warm_errors = await _pool(concurrency, jobs[:warm])
        pids = plan.get("cpu_pids", [])
        server_cpu = cpu_time_s(pids)
        # For a profiler attached from outside (bench/profile_server.py): the window's ends on stderr.
        print("bench.load: window begins", file=sys.stderr, flush=True)
        began = time.time()
        start, cpu = time.perf_counter(), time.process_time()
        latencies, errors = await _pool(concurrency, jobs[warm:])
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - cpu
        server_cpu = cpu_time_s(pids) - server_cpu
        print("bench.load: window ends", file=sys.stderr, flush=True)
        errors = warm_errors + errors
    finally:
        await client.close()
    latencies.sort()
    return {
        **cell,
        "ok": len(latencies),
        "failed": len(errors),
        "first_error": errors[0] if errors else None,
        "elapsed_s": round(elapsed, 3),
        "window": [began, began + elapsed],
        "client_cpu_ms": round(client_cpu * 1000 / max(1, len(latencies)), 3),
        **({"server_cpu_s": round(server_cpu, 6)} if pids else {}),
        "rate": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
    }


def _verify_job(client: Grpc | Rest, pending: Pending, credential: dict[str, Any]) -> Callable[[], Awaitable[None]]:
    return lambda: client.verify(pending, credential)


async def main_async(plan: dict[str, Any]) -> None:
    # Users and registrations of our service are prepared over gRPC, whatever the cell's transport.
    setup = Grpc(plan["grpc"], plan["token"]) if plan.get("grpc") else None
    try:
        for cell in plan["cells"]:
            result = await run_cell(plan, cell, setup)
            print(json.dumps(result), flush=True)
    finally:
        if setup is not None:
            await setup.close()


def main() -> None:
    plan = json.loads(sys.stdin.readline())
    asyncio.run(main_async(plan))


if __name__ == "__main__":
    main()
