"""The verify path in one process, without the network: what one VerifyPasskeyRegistration costs
in the servicer (authentication, conversion, database, cryptography, access log line).

    PYTHONPATH=. .venv/bin/python -m bench.profile_verify [sqlite|postgres] [count]
        [--profile] [--no-token-cache] [--dump FILE]

Prints ms per verify and Python function calls per verify (cProfile), and with --profile the
top functions by own time.
"""

from __future__ import annotations

import base64
import cProfile
import io
import logging
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2
from zitadel.user.v2 import user_service_pb2 as pb

from bench.load import ORIGIN, RP_ID, sign
from passkeys import logs, server
from passkeys.api import interceptors
from passkeys.config import Settings
from tests.support.databases import fresh_database


class Context:
    """What the servicer and the interceptor read of a grpc.ServicerContext."""

    def __init__(self, token: str) -> None:
        self.metadata = (("authorization", f"Bearer {token}"),)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    def code(self) -> None:
        return None

    def time_remaining(self) -> None:  # no deadline
        return None

    def abort_with_status(self, status: Any) -> None:
        raise RuntimeError(f"verify failed: {status}")


def _b64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def main() -> None:
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        # The access log goes to a file, as a server's stderr would.
        logs.setup("INFO")
        log_file = (Path(tmp) / "server.log").open("w")
        logging.getLogger().handlers[0].setStream(log_file)  # type: ignore[attr-defined]
        settings = Settings(
            database_url=url,
            # Ports of its own: two profiles (or a profile and a running service) never collide.
            grpc_addr="127.0.0.1:0",
            metrics_addr="",
            rp_id=RP_ID,
            origins=(ORIGIN,),
            admin_pat_path=str(Path(tmp) / "admin.pat"),
            token_cache_s=0 if "--no-token-cache" in sys.argv else Settings.token_cache_s,
        )
        running = server.start(settings)
        token = (Path(tmp) / "admin.pat").read_text().strip()
        try:
            from passkeys.api.servicer import UserService
            from passkeys.assemble import passkey_commands
            from passkeys.auth.authenticate import Authenticator

            servicer = UserService(
                running.db,
                passkey_commands(running.db, settings),
                Authenticator(running.db, None, token_cache_s=settings.token_cache_s),
                settings,
            )
            context = Context(token)
            users = [
                servicer.AddHumanUser(
                    pb.AddHumanUserRequest(
                        profile={"given_name": "P", "family_name": "F"}, email={"email": f"p{i}@example.com"}
                    ),
                    context,  # type: ignore[arg-type]
                ).user_id
                for i in range(max(1, count // 4))
            ]
            requests = []
            for n in range(count):
                started = servicer.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=users[n % len(users)]), context)  # type: ignore[arg-type]
                options = json_format.MessageToDict(started.public_key_credential_creation_options)["publicKey"]
                struct = struct_pb2.Struct()
                struct.update(sign(_b64(options["challenge"])))
                requests.append(
                    pb.VerifyPasskeyRegistrationRequest(
                        user_id=users[n % len(users)],
                        passkey_id=started.passkey_id,
                        public_key_credential=struct,
                        passkey_name="profile",
                    )
                )
            # Through the interceptor, as the server calls it (error mapping and access log).
            handler = interceptors.stack().intercept_service(
                lambda _: _unary(servicer.VerifyPasskeyRegistration),
                _Details("/zitadel.user.v2.UserService/VerifyPasskeyRegistration"),
            )
            half = count // 2
            start, cpu = time.perf_counter(), time.thread_time()
            for request in requests[:half]:
                handler.unary_unary(request, context)
            per_verify = (time.perf_counter() - start) / half * 1000
            cpu_per_verify = (time.thread_time() - cpu) / half * 1000
            profiler = cProfile.Profile()
            profiler.enable()
            for request in requests[half:]:
                handler.unary_unary(request, context)
            profiler.disable()
            stats = pstats.Stats(profiler)
            calls = stats.total_calls / (count - half)  # type: ignore[attr-defined]
            print(
                f"{backend}: {per_verify:.3f} ms ({cpu_per_verify:.3f} ms CPU) per verify (no profiler), "
                f"{calls:.0f} Python calls per verify"
            )
            if "--dump" in sys.argv:
                profiler.dump_stats(sys.argv[sys.argv.index("--dump") + 1])
            if "--profile" in sys.argv:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(35)
                print(out.getvalue())
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumtime").print_stats(45)
                print(out.getvalue())
        finally:
            running.stop(grace=0)
            log_file.close()


class _Details:
    def __init__(self, method: str) -> None:
        self.method = method


def _unary(fn: Any) -> Any:
    import grpc

    return grpc.unary_unary_rpc_method_handler(fn)


if __name__ == "__main__":
    main()
