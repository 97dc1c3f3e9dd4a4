"""`passkeys run|serve|migrate` and the administration commands (organizations, machine users,
role grants, tokens), which act on the database directly with the operator's authority."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from passkeys import logs
from passkeys.config import ConfigError, Settings, load_settings
from passkeys.errors import DomainError

DEFAULT_TOKEN_DAYS = 90


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="passkeys", description="WebAuthn passkey registration service")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="migrate, then serve gRPC and Envoy (REST, grpc-web) until Ctrl-C")
    sub.add_parser("serve", help="migrate the database, then serve gRPC until SIGTERM")
    sub.add_parser("migrate", help="bring the database schema up to date (and create the first admin)")
    org = sub.add_parser("create-org", help="create an organization; prints its id")
    org.add_argument("--name", required=True)
    org.add_argument("--domain", required=True)
    machine = sub.add_parser("create-machine-user", help="create a machine user; prints its id")
    machine.add_argument("--org-id", required=True)
    machine.add_argument("--name", required=True)
    grant = sub.add_parser(
        "grant-role", help="grant IAM_OWNER or IAM_LOGIN_CLIENT (no --org-id), ORG_OWNER or ORG_USER_MANAGER"
    )
    grant.add_argument("--user-id", required=True)
    grant.add_argument("--role", required=True)
    grant.add_argument("--org-id")
    token = sub.add_parser("create-token", help="a personal access token for a machine user, printed once")
    token.add_argument("--user-id", required=True)
    token.add_argument("--expires-in-days", type=int, default=DEFAULT_TOKEN_DAYS)
    return parser


def _admin(args: argparse.Namespace, settings: Settings) -> str:
    from passkeys.commands import admin
    from passkeys.details import now
    from passkeys.prepare import prepare_database

    db = prepare_database(settings)
    try:
        with db.write() as uow:
            if args.command == "create-org":
                return admin.create_org(uow, name=args.name, domain=args.domain)
            if args.command == "create-machine-user":
                return admin.create_machine_user(uow, org_id=args.org_id, name=args.name)
            if args.command == "grant-role":
                admin.grant_role(uow, user_id=args.user_id, role=args.role, org_id=args.org_id)
                return "granted"
            if not 1 <= args.expires_in_days <= 36500:
                raise ConfigError("--expires-in-days must be 1..36500")
            expires = now() + timedelta(days=args.expires_in_days)
            return admin.create_token(uow, user_id=args.user_id, expires_at=expires).token
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"passkeys: bad setting: {exc}", file=sys.stderr)
        return 2
    logs.setup(settings.log_level)
    from sqlalchemy.exc import OperationalError

    try:
        return _command(args, settings)
    except OperationalError as exc:
        # Unreachable at start (down, wrong host, refused): say so, not a traceback.
        print(f"passkeys: cannot reach the database: {exc.orig or exc}".strip(), file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here so that `--help` and config errors need no database; the gRPC stubs are
    # imported by the processes that serve (workers.py), not by the parent of workers.
    from passkeys.prepare import prepare_database

    if args.command == "migrate":
        prepare_database(settings).dispose()
        return 0
    if args.command not in ("run", "serve"):
        try:
            print(_admin(args, settings))
        except (DomainError, ConfigError) as exc:
            print(f"passkeys: {exc}", file=sys.stderr)
            return 1
        return 0
    from passkeys import gateway, workers

    try:
        if args.command == "run":
            return gateway.run(settings)
        return workers.serve(settings)
    except (OSError, gateway.GatewayError, workers.WorkerError) as exc:
        print(f"passkeys: cannot start: {exc}", file=sys.stderr)
        return 1
