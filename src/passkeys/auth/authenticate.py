"""From `authorization: Bearer ...` to a Caller, before any argument of the call is read.

The bearer value says what it is by its shape: a JWT has two dots, a registration code
proof is `<code id>:<code>`, anything else is a personal access token (ours contain
neither '.' nor ':')."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from passkeys.auth import tokens
from passkeys.auth.caller import Caller, Grant, Kind
from passkeys.auth.jwt import JwtVerifier
from passkeys.errors import Reason, Unauthenticated
from passkeys.limits import MAX_BEARER
from passkeys.store.db import Database

MAX_CODE_ATTEMPTS = 3


def _now() -> datetime:
    return datetime.now(UTC)


def bearer_of(metadata: Sequence[tuple[str, str | bytes]]) -> str | None:
    """The bearer value of the call's `authorization` metadata; None when there is none."""
    values = [v for k, v in metadata if k.lower() == "authorization"]
    if not values:
        return None
    value = values[0]
    if isinstance(value, bytes) or len(values) > 1 or len(value) > MAX_BEARER:
        raise Unauthenticated(Reason.TOKEN_MALFORMED, "authorization must be one 'Bearer <token>'")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(Reason.TOKEN_MALFORMED, "authorization must be 'Bearer <token>'")
    return token.strip()


MAX_CACHED_TOKENS = 4096


class Authenticator:
    """`token_cache_s`: how long a personal access token's caller (its machine user and grants)
    is reused without reading the database. The token's expiry is still checked on every call;
    a grant or token removed in the database is seen after at most that long. 0: no cache."""

    def __init__(self, db: Database, jwt_verifier: JwtVerifier | None, *, token_cache_s: float = 0.0) -> None:
        self.db = db
        self.jwt = jwt_verifier
        self.token_cache_s = token_cache_s
        # token digest -> (caller, token expiry, reused until (monotonic)); only known tokens.
        self._tokens: dict[str, tuple[Caller, datetime, float]] = {}

    def caller(self, metadata: Sequence[tuple[str, str | bytes]]) -> Caller:
        """The authenticated caller, or Unauthenticated: missing, malformed, unknown, expired."""
        token = bearer_of(metadata)
        if token is None:
            raise Unauthenticated(Reason.TOKEN_MISSING, "authorization: Bearer <token> is required")
        if token.count(".") == 2:
            return self._human(token)
        if ":" in token:
            code_id, _, code = token.partition(":")
            return self.code(code_id, code)
        return self._machine(token)

    def _machine(self, token: str) -> Caller:
        digest = tokens.digest(token)
        cached = self._tokens.get(digest)
        if cached is not None and cached[2] > time.monotonic():
            caller, expires_at, _ = cached
        else:
            with self.db.connect() as uow:
                rows = uow.tokens.machine_by_token(digest)
            if not rows:
                raise Unauthenticated(Reason.TOKEN_INVALID, "unknown access token")
            expires_at, user_id, org_id = rows[0][:3]
            grants = tuple(Grant(role=role, org_id=on) for *_, role, on in rows if role is not None)
            caller = Caller(Kind.MACHINE, user_id, org_id, grants)
            if self.token_cache_s > 0:
                if len(self._tokens) >= MAX_CACHED_TOKENS:
                    self._tokens.clear()
                self._tokens[digest] = (caller, expires_at, time.monotonic() + self.token_cache_s)
        if expires_at <= _now():
            raise Unauthenticated(Reason.TOKEN_EXPIRED, "access token expired")
        return caller

    def _human(self, token: str) -> Caller:
        if self.jwt is None:
            raise Unauthenticated(Reason.TOKEN_INVALID, "JWTs are not accepted: no issuer is configured")
        user_id = self.jwt.subject(token)
        with self.db.read() as uow:
            user = uow.users.get(user_id)
            # A human sharing a machine user's id (written before ids were one space) gets nothing:
            # grants are keyed by id, and the machine user's must never come with a JWT.
            if user is None or uow.machines.exists(user.id):
                raise Unauthenticated(Reason.TOKEN_INVALID, "the JWT's subject is not a user here")
            grants = tuple(Grant(role=g.role, org_id=g.org_id) for g in uow.grants.of_user(user.id))
            return Caller(Kind.HUMAN, user.id, user.org_id, grants)

    def code(self, code_id: str, code: str) -> Caller:
        """A registration code proof. A wrong code counts against the code, and that count is
        committed although the call is refused: the one write a refused call makes, so that
        the code cannot be guessed by trying (after 3 wrong tries it is invalid)."""
        refused = Unauthenticated(Reason.CODE_INVALID, "registration code is invalid")
        if not code_id or not code or len(code_id) > 200 or len(code) > 200:
            raise refused
        if "\x00" in code_id:  # no id holds one, and PostgreSQL text cannot even be compared with it
            raise refused
        with self.db.write() as uow:
            row = uow.codes.get(code_id, lock=True)
            if row is None or row.failed_attempts >= MAX_CODE_ATTEMPTS:
                caller = None
            elif not tokens.matches(code, row.code_hash):
                uow.codes.count_failed_attempt(row.id)
                caller = None
            else:
                if row.expires_at <= _now():
                    raise Unauthenticated(Reason.CODE_EXPIRED, "registration code expired")
                user = uow.users.get(row.user_id)
                assert user is not None  # foreign key
                caller = Caller(Kind.CODE, user.id, user.org_id, code_id=row.id)
        if caller is None:  # raised after the commit: the wrong try is counted
            raise refused
        return caller
