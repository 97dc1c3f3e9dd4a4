"""`passkeys run|serve|migrate`, the administration commands (organizations, machine users,
role grants, tokens) and the outbox's (for a mailer), which act on the database directly with the
operator's authority."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

from passkeys import logs
from passkeys.config import ConfigError, Settings, load_settings, settings_help
from passkeys.errors import DomainError

DEFAULT_TOKEN_DAYS = 90
DEFAULT_OUTBOX_LIMIT = 100
SETTINGS_EPILOG = "settings (environment variables, read by every command; defaults shown; see the README):\n"


def _parser() -> argparse.ArgumentParser:
    epilog = SETTINGS_EPILOG + settings_help()

    class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
        pass

    parser = argparse.ArgumentParser(
        prog="passkeys",
        description="WebAuthn passkey registration service, wire-compatible with ZITADEL's user service v2",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, epilog=epilog, formatter_class=Formatter)

    command("run", "migrate, then serve gRPC and Envoy (REST, grpc-web, Connect, the page) until Ctrl-C")
    command("serve", "migrate the database, then serve gRPC until SIGTERM")
    command("migrate", "bring the database schema up to date (and create the first admin)")
    org = command("create-org", "create an organization; prints its id")
    org.add_argument("--name", required=True)
    org.add_argument("--domain", required=True)
    machine = command("create-machine-user", "create a machine user; prints its id")
    machine.add_argument("--org-id", required=True)
    machine.add_argument("--name", required=True)
    machine.add_argument("--user-id", help="the id to give it (default: a new one); ids are shared with human users")
    grant = command("grant-role", "grant IAM_OWNER or IAM_LOGIN_CLIENT (no --org-id), ORG_OWNER or ORG_USER_MANAGER")
    grant.add_argument("--user-id", required=True)
    grant.add_argument("--role", required=True)
    grant.add_argument("--org-id")
    token = command("create-token", "a personal access token for a machine user, printed once")
    token.add_argument("--user-id", required=True)
    token.add_argument("--expires-in-days", type=int, default=DEFAULT_TOKEN_DAYS, help="1..36500")
    outbox = command("outbox", "the messages stored for a mailer (sendLink's registration links)")
    actions = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="unsent messages, oldest first, one JSON object a line",
        description="unsent messages, oldest first, one JSON object a line:\n"
        "id, user_id, kind, recipient, body (the link), created_at",
        formatter_class=Formatter,
    )
    listing.add_argument("--limit", type=int, default=DEFAULT_OUTBOX_LIMIT, help="at most this many, 1..10000")
    sent = actions.add_parser(
        "mark-sent", help="mark messages as sent (they leave the list)", formatter_class=Formatter
    )
    sent.add_argument("ids", nargs="+", metavar="ID", help="a message id from `outbox list`")
    return parser


def _outbox(args: argparse.Namespace, settings: Settings) -> int:
    from passkeys.details import now
    from passkeys.prepare import prepare_database

    db = prepare_database(settings)
    try:
        if args.outbox_command == "list":
            if not 1 <= args.limit <= 10000:
                raise ConfigError("--limit must be 1..10000")
            from passkeys.commands.links import open_link
            from passkeys.sealing import Sealer, SealError
            from passkeys.sealing_key import load_key

            sealer = Sealer(load_key(key=settings.outbox_key, key_path=settings.outbox_key_path))
            with db.read() as uow:
                messages = uow.outbox.unsent(limit=args.limit)
            unopened = 0
            for message in messages:
                try:
                    body = open_link(sealer, message)
                except SealError as exc:  # the others are still listed; the mailer sees exit status 1
                    print(f"passkeys: message {message.id}: {exc}", file=sys.stderr)
                    unopened += 1
                    continue
                fields = {**vars(message), "body": body, "created_at": message.created_at.isoformat()}
                print(json.dumps(fields))
            return 1 if unopened else 0
        with db.write() as uow:
            at = now()
            missing = [i for i in args.ids if not uow.outbox.mark_sent(i, at)]
            if missing:  # nothing marked: the transaction rolls back
                raise ConfigError(f"no unsent message {', '.join(missing)}")
        for message_id in args.ids:
            print(f"sent {message_id}")
        return 0
    finally:
        db.dispose()


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
                return admin.create_machine_user(uow, org_id=args.org_id, name=args.name, user_id=args.user_id)
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
    if args.command in ("run", "serve"):
        return _serve(args, settings)
    # Imported here, not above: the supervising parent of `run` and `serve` touches no database
    # (its workers do), so it loads no SQLAlchemy.
    from sqlalchemy.exc import OperationalError

    try:
        return _command(args, settings)
    except OperationalError as exc:
        # Unreachable at start (down, wrong host, refused): say so, not a traceback.
        print(f"passkeys: cannot reach the database: {exc.orig or exc}".strip(), file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here so that `--help` and config errors need no database.
    from passkeys.prepare import prepare_database

    if args.command == "migrate":
        prepare_database(settings).dispose()
        return 0
    if args.command == "outbox":
        try:
            return _outbox(args, settings)
        except ConfigError as exc:
            print(f"passkeys: {exc}", file=sys.stderr)
            return 1
    try:
        print(_admin(args, settings))
    except (DomainError, ConfigError) as exc:
        print(f"passkeys: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    # The gRPC stubs are imported by the processes that serve (workers.py), not by this parent.
    from passkeys import gateway, workers

    try:
        if args.command == "run":
            return gateway.run(settings)
        return workers.serve(settings)
    except workers.DatabaseUnreachable as exc:  # the first worker's, as main() says its own
        print(f"passkeys: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    except (OSError, gateway.GatewayError, workers.WorkerError) as exc:
        print(f"passkeys: cannot start: {exc}", file=sys.stderr)
        return 1
