"""`passkeys run`, `passkeys serve` and `passkeys migrate`."""

from __future__ import annotations

import argparse
import sys

from passkeys import logs
from passkeys.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="passkeys", description="WebAuthn passkey registration service")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="migrate, then serve gRPC and Envoy (REST, grpc-web) until Ctrl-C")
    sub.add_parser("serve", help="migrate the database, then serve gRPC until SIGTERM")
    sub.add_parser("migrate", help="bring the database schema up to date")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"passkeys: bad setting: {exc}", file=sys.stderr)
        return 2
    logs.setup(settings.log_level)
    # Imported here so that `--help` and config errors need no gRPC stubs or database.
    from passkeys import server

    if args.command == "migrate":
        server.prepare_database(settings).dispose()
        return 0
    from passkeys import gateway

    try:
        if args.command == "run":
            return gateway.run(settings)
        server.serve(settings)
    except (OSError, gateway.GatewayError) as exc:
        print(f"passkeys: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0
