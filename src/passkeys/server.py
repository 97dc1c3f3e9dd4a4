"""Builds and runs the gRPC server: UserService, health, reflection, interceptors.

The server is grpc.aio's, on an event loop in a thread of its own, and runs the sync handlers
(and interceptors: api/aio.py) on a pool of PASSKEYS_GRPC_THREADS threads once a call's message
has arrived: a stream that never sends it holds no thread. Each connection may have at most
MAX_CONCURRENT_STREAMS streams open; a connection that resets streams in a flood is closed
(api/rapid_reset.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from passkeysapi.v1 import passkey_details_pb2, passkey_details_pb2_grpc
from zitadel.session.v2 import session_service_pb2, session_service_pb2_grpc
from zitadel.user.v2 import user_service_pb2, user_service_pb2_grpc
from zitadel.user.v2beta import user_service_pb2 as v2beta_pb2
from zitadel.user.v2beta import user_service_pb2_grpc as v2beta_pb2_grpc

from passkeys import assemble, gc_tuning, reflection
from passkeys.api import interceptors, metrics, rapid_reset
from passkeys.api.aio import Intercepted
from passkeys.api.details_servicer import PasskeyDetailsService
from passkeys.api.servicer import UserService
from passkeys.api.servicer_v2beta import UserServiceV2Beta
from passkeys.api.session_servicer import SessionService
from passkeys.auth.authenticate import Authenticator
from passkeys.auth.jwt import JwtVerifier
from passkeys.commands import expiry
from passkeys.config import Settings
from passkeys.limits import MAX_CONCURRENT_STREAMS, MAX_REQUEST_BYTES
from passkeys.memory import limit_malloc_arenas, release_free_memory
from passkeys.store.db import Database

log = logging.getLogger(__name__)

SERVICE_NAME = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
V2BETA_SERVICE_NAME = v2beta_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
DETAILS_SERVICE_NAME = passkey_details_pb2.DESCRIPTOR.services_by_name["PasskeyDetailsService"].full_name
SESSION_SERVICE_NAME = session_service_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name
SERVICE_NAMES = (SERVICE_NAME, V2BETA_SERVICE_NAME, DETAILS_SERVICE_NAME, SESSION_SERVICE_NAME)
SHUTDOWN_GRACE_S = 10
# Ping an idle client every 60 s and drop it if it does not answer within 20 s.
KEEPALIVE_TIME_MS, KEEPALIVE_TIMEOUT_MS = 60_000, 20_000
T = TypeVar("T")


def server_options(settings: Settings, *, reuse_port: bool = False) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
        ("grpc.so_reuseport", int(reuse_port)),
        ("grpc.max_concurrent_streams", MAX_CONCURRENT_STREAMS),
        # A connection lives at most age + grace: a client trickling bytes is cut off then.
        ("grpc.max_connection_age_ms", settings.max_connection_age_s * 1000),
        ("grpc.max_connection_age_grace_ms", settings.connection_grace_s * 1000),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ]


class _Loop:
    """An event loop running in a daemon thread, for grpc.aio's server."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="grpc-aio", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    db: Database
    health: health.HealthServicer
    loop: _Loop
    pool: futures.ThreadPoolExecutor
    guard: rapid_reset.Guard
    stopping: threading.Event = field(default_factory=threading.Event)

    def stop(self, grace: float | None = SHUTDOWN_GRACE_S) -> None:
        self.stopping.set()
        self.health.enter_graceful_shutdown()
        self.guard.stop()
        self.loop.run(self.server.stop(grace))
        self.loop.close()
        self.pool.shutdown(wait=True)
        self.db.dispose()


def _sweep_expired(running: RunningServer, challenge_ttl_s: int) -> None:
    """Every expiry.SWEEP_INTERVAL_S until the server stops: never-verified passkeys removed, and
    the outbox's unsent links whose code has expired."""
    while not running.stopping.wait(expiry.SWEEP_INTERVAL_S):
        try:
            if removed := expiry.remove_expired(running.db, challenge_ttl_s=challenge_ttl_s):
                log.info("expired passkeys removed", extra={"count": removed})
        except Exception:  # the database may be down for a while: the next sweep tries again
            log.warning("sweep of expired passkeys failed", exc_info=True)
        try:
            if purged := expiry.purge_expired_links(running.db):
                log.info("expired outbox links purged", extra={"count": purged})
        except Exception:
            log.warning("sweep of expired outbox links failed", exc_info=True)


def jwt_verifier(settings: Settings) -> JwtVerifier | None:
    if settings.jwt_issuer and settings.jwt_audience and (settings.jwks_path or settings.jwks_url):
        return JwtVerifier(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            jwks_path=settings.jwks_path,
            jwks_url=settings.jwks_url,
        )
    return None


def start(settings: Settings, db: Database | None = None, *, reuse_port: bool = False) -> RunningServer:
    """`reuse_port`: share the port with sibling worker processes (workers.py); off, a taken
    port is an error."""
    if db is None:
        # Not at the top: workers migrate in a child process (workers.py) and load no Alembic.
        from passkeys.prepare import prepare_database

        db = prepare_database(settings)
    limit_malloc_arenas()
    authn = Authenticator(db, jwt_verifier(settings), token_cache_s=settings.token_cache_s)
    passkeys = assemble.passkey_commands(db, settings)
    if passkeys.policy.attestation_policy.metadata is not None:
        metrics.record_attestation_metadata(passkeys.policy.attestation_policy.metadata)
    pool = futures.ThreadPoolExecutor(max_workers=settings.grpc_threads, thread_name_prefix="grpc")
    health_servicer = health.HealthServicer()
    loop = _Loop()

    async def build() -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server(
            migration_thread_pool=pool,
            # No bound on calls at once: grpc.aio counts a stream waiting for its message as a
            # call, so a bound would let held streams refuse everyone else. Streams are bounded
            # per connection, calls waiting for a thread by their deadlines.
            options=server_options(settings, reuse_port=reuse_port),
        )
        # Every service's handlers wrapped in the interceptors once, as they are registered.
        wrapped = Intercepted(server, interceptors.stack())
        users = UserService(db, passkeys, authn, settings)
        user_service_pb2_grpc.add_UserServiceServicer_to_server(users, wrapped)
        v2beta_pb2_grpc.add_UserServiceServicer_to_server(UserServiceV2Beta(users), wrapped)
        passkey_details_pb2_grpc.add_PasskeyDetailsServiceServicer_to_server(PasskeyDetailsService(users), wrapped)
        session_service_pb2_grpc.add_SessionServiceServicer_to_server(
            SessionService(assemble.session_commands(db, settings), authn), wrapped
        )
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, wrapped)
        # Reflection streams: no interceptor wraps a stream.
        reflection.enable(server, (*SERVICE_NAMES, health.SERVICE_NAME))
        try:
            port = server.add_insecure_port(settings.grpc_addr)
        except RuntimeError as exc:  # grpc's way of saying the address is taken or invalid
            raise OSError(f"cannot listen on {settings.grpc_addr}: {exc}") from None
        await server.start()
        return server, port

    try:
        server, port = loop.run(build())
    except BaseException:
        loop.close()
        pool.shutdown()
        raise
    for name in ("", *SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    guard = rapid_reset.Guard(port)
    running = RunningServer(server=server, port=port, db=db, health=health_servicer, loop=loop, pool=pool, guard=guard)
    threading.Thread(
        target=_sweep_expired, args=(running, settings.challenge_ttl_s), daemon=True, name="expiry"
    ).start()
    gc_tuning.settle()
    release_free_memory()
    return running
