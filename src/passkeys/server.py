"""Builds and runs the gRPC server: UserService, health, reflection, interceptors."""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from zitadel.user.v2 import user_service_pb2, user_service_pb2_grpc

from passkeys import assemble, reflection
from passkeys.api import interceptors, metrics
from passkeys.api.servicer import UserService
from passkeys.auth.authenticate import Authenticator
from passkeys.auth.jwt import JwtVerifier
from passkeys.commands import expiry
from passkeys.config import Settings
from passkeys.limits import MAX_REQUEST_BYTES
from passkeys.memory import limit_malloc_arenas
from passkeys.prepare import prepare_database
from passkeys.store.db import Database

log = logging.getLogger(__name__)

SERVICE_NAME = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
SHUTDOWN_GRACE_S = 10
# Ping an idle client every 60 s and drop it if it does not answer within 20 s.
KEEPALIVE_TIME_MS, KEEPALIVE_TIMEOUT_MS = 60_000, 20_000


def server_options(settings: Settings, *, reuse_port: bool = False) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
        ("grpc.so_reuseport", int(reuse_port)),
        # A sync server waits for a request's last byte on a worker thread: a client trickling
        # bytes holds that thread until its connection is closed, at most age + grace.
        ("grpc.max_connection_age_ms", settings.max_connection_age_s * 1000),
        ("grpc.max_connection_age_grace_ms", settings.connection_grace_s * 1000),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ]


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    db: Database
    health: health.HealthServicer
    stopping: threading.Event = field(default_factory=threading.Event)

    def stop(self, grace: float | None = SHUTDOWN_GRACE_S) -> None:
        self.stopping.set()
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.db.dispose()


def _sweep_expired(running: RunningServer, challenge_ttl_s: int) -> None:
    """Every expiry.SWEEP_INTERVAL_S until the server stops: never-verified passkeys removed."""
    while not running.stopping.wait(expiry.SWEEP_INTERVAL_S):
        try:
            if removed := expiry.remove_expired(running.db, challenge_ttl_s=challenge_ttl_s):
                log.info("expired passkeys removed", extra={"count": removed})
        except Exception:  # the database may be down for a while: the next sweep tries again
            log.warning("sweep of expired passkeys failed", exc_info=True)


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
    db = db or prepare_database(settings)
    limit_malloc_arenas()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.grpc_threads, thread_name_prefix="grpc"),
        interceptors=[interceptors.stack()],
        options=server_options(settings, reuse_port=reuse_port),
        maximum_concurrent_rpcs=settings.grpc_threads * 8,
    )
    authn = Authenticator(db, jwt_verifier(settings), token_cache_s=settings.token_cache_s)
    passkeys = assemble.passkey_commands(db, settings)
    if passkeys.policy.attestation_policy.metadata is not None:
        metrics.record_attestation_metadata(passkeys.policy.attestation_policy.metadata)
    user_service_pb2_grpc.add_UserServiceServicer_to_server(UserService(db, passkeys, authn, settings), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable(server, (SERVICE_NAME, health.SERVICE_NAME))
    try:
        port = server.add_insecure_port(settings.grpc_addr)
    except RuntimeError as exc:  # grpc's way of saying the address is taken or invalid
        raise OSError(f"cannot listen on {settings.grpc_addr}: {exc}") from None
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    running = RunningServer(server=server, port=port, db=db, health=health_servicer)
    threading.Thread(
        target=_sweep_expired, args=(running, settings.challenge_ttl_s), daemon=True, name="expiry"
    ).start()
    return running
