"""Every SQL statement of sign-in: sessions, and the reads and writes of passkeys and users that a
sign-in makes. Core statements on the caller's connection, inside its unit of work (db.write()):
the use case (commands/sessions.py) decides, this module only reads and writes rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, func, insert, select, update

from passkeys.store.models import Organization, Passkey, SignInSession, User
from passkeys.store.repository import Repository

READY = 2  # AuthFactorState READY, as stored in passkeys.state

_SESSIONS = SignInSession.__table__
_PASSKEYS = Passkey.__table__
_USERS = User.__table__
_ORGS = Organization.__table__
# A user's login name: `username@organization-domain`, one user's in the whole instance.
_LOGIN_NAME = _USERS.c.username + "@" + _ORGS.c.domain

# A session with its user's names (NULL before a user is checked): what GetSession shows.
_SESSION_VIEW = select(
    _SESSIONS,
    _LOGIN_NAME.label("user_login_name"),
    _USERS.c.display_name.label("user_display_name"),
    _USERS.c.org_id.label("user_org_id"),
).select_from(
    _SESSIONS.outerjoin(_USERS, _USERS.c.id == _SESSIONS.c.user_id).outerjoin(_ORGS, _ORGS.c.id == _USERS.c.org_id)
)
# The row to change, locked on PostgreSQL (SQLite: the writer's lock is held already).
_SESSION_FOR_UPDATE = _SESSION_VIEW.where(_SESSIONS.c.id == bindparam("session_id")).with_for_update(of=_SESSIONS)
_SESSION_BY_ID = _SESSION_VIEW.where(_SESSIONS.c.id == bindparam("session_id"))
_INSERT_SESSION = insert(_SESSIONS)
_DELETE_SESSION = delete(_SESSIONS).where(_SESSIONS.c.id == bindparam("session_id"))

_USER_COLUMNS = (
    _USERS.c.id,
    _USERS.c.org_id,
    _LOGIN_NAME.label("login_name"),
    _USERS.c.display_name,
    _USERS.c.sequence,
    _USERS.c.created_at,
)
_USER_SELECT = select(*_USER_COLUMNS).select_from(_USERS.join(_ORGS, _ORGS.c.id == _USERS.c.org_id))
_USER_BY_ID = _USER_SELECT.where(_USERS.c.id == bindparam("user_id"))
# Locked before the passkey, in the order RemovePasskey locks them: the sign-in's event is the
# user's next one.
_USER_FOR_UPDATE = _USER_BY_ID.with_for_update(of=_USERS)
# The full login name: the username in the organization of that domain (domains hold no '@').
_USER_BY_FULL_LOGIN_NAME = _USER_SELECT.where(
    _USERS.c.username == bindparam("username"), func.lower(_ORGS.c.domain) == bindparam("domain")
)
# A bare username: every organization's user of that name (two are enough to tell it is ambiguous).
_USERS_BY_USERNAME = _USER_SELECT.where(_USERS.c.username == bindparam("username")).limit(2)

# The credentials a user may sign in with for one RP ID: allowCredentials.
_READY_CREDENTIALS = (
    select(_PASSKEYS.c.credential_id, _PASSKEYS.c.transports)
    .where(
        _PASSKEYS.c.user_id == bindparam("user_id"),
        _PASSKEYS.c.state == READY,
        _PASSKEYS.c.rp_id == bindparam("rp_id"),
    )
    .order_by(_PASSKEYS.c.created_at, _PASSKEYS.c.id)
)
# Whether a user has a READY passkey (for one RP ID): ListAuthenticationMethodTypes.
_HAS_READY_PASSKEY = select(_PASSKEYS.c.id).where(
    _PASSKEYS.c.user_id == bindparam("user_id"), _PASSKEYS.c.state == READY
)
# A passkey by its credential id (locked, once its user is: its counter is read and then written).
_PASSKEY_BY_CREDENTIAL = select(
    _PASSKEYS.c.id,
    _PASSKEYS.c.user_id,
    _PASSKEYS.c.state,
    _PASSKEYS.c.rp_id,
    _PASSKEYS.c.public_key,
    _PASSKEYS.c.sign_count,
    _PASSKEYS.c.backup_eligible,
).where(_PASSKEYS.c.credential_id == bindparam("credential_id"))
_PASSKEY_BY_CREDENTIAL_FOR_UPDATE = _PASSKEY_BY_CREDENTIAL.with_for_update()
# Guarded by the counter read: a concurrent sign-in with the same passkey that committed first
# makes this change nothing, and the use case refuses.
_STORE_PASSKEY_USE = (
    update(_PASSKEYS)
    .where(_PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.sign_count == bindparam("old_sign_count"))
    .values(sign_count=bindparam("sign_count"), backed_up=bindparam("backed_up"), last_used_at=bindparam("at"))
)


@dataclass(frozen=True)
class UserRef:
    id: str
    org_id: str
    login_name: str
    display_name: str
    sequence: int  # of the user's last event
    created_at: datetime


@dataclass(frozen=True)
class SessionFilter:
    """Every query must hold (ZITADEL ANDs them): each `ids` entry is one IDsQuery."""

    ids: tuple[tuple[str, ...], ...] = ()
    user_ids: tuple[str, ...] = ()
    creator_ids: tuple[str, ...] = ()


def _user(row: Row[Any] | None) -> UserRef | None:
    if row is None:
        return None
    return UserRef(row.id, row.org_id, row.login_name, row.display_name, row.sequence, row.created_at)


class SessionRepository(Repository):
    """Sessions, and what a sign-in reads and writes of users and passkeys."""

    __slots__ = ()

    def user_by_id(self, user_id: str, *, lock: bool = False) -> UserRef | None:
        return _user(self.conn.execute(_USER_FOR_UPDATE if lock else _USER_BY_ID, {"user_id": user_id}).first())

    def user_by_full_login_name(self, username: str, domain: str) -> UserRef | None:
        """`username@domain`: the user of that username in the organization of that domain."""
        params = {"username": username, "domain": domain.lower()}
        return _user(self.conn.execute(_USER_BY_FULL_LOGIN_NAME, params).first())

    def users_by_username(self, username: str) -> list[UserRef]:
        """The users of that username, at most two (one per organization)."""
        return [u for u in map(_user, self.conn.execute(_USERS_BY_USERNAME, {"username": username})) if u]

    def ready_credentials(self, user_id: str, rp_id: str) -> list[tuple[bytes, list[str]]]:
        rows = self.conn.execute(_READY_CREDENTIALS, {"user_id": user_id, "rp_id": rp_id}).all()
        return [(r.credential_id, list(r.transports or [])) for r in rows]

    def has_ready_passkey(self, user_id: str, rp_id: str | None) -> bool:
        statement = _HAS_READY_PASSKEY if rp_id is None else _HAS_READY_PASSKEY.where(_PASSKEYS.c.rp_id == rp_id)
        return self.conn.execute(statement.limit(1), {"user_id": user_id}).first() is not None

    def passkey_by_credential(self, credential_id: bytes, *, lock: bool = False) -> Row[Any] | None:
        statement = _PASSKEY_BY_CREDENTIAL_FOR_UPDATE if lock else _PASSKEY_BY_CREDENTIAL
        return self.conn.execute(statement, {"credential_id": credential_id}).first()

    def store_passkey_use(
        self, passkey_id: str, *, old_sign_count: int, sign_count: int, backed_up: bool, at: datetime
    ) -> bool:
        """False when the passkey changed since it was read (a concurrent sign-in, a removal)."""
        result = self.conn.execute(
            _STORE_PASSKEY_USE,
            {"passkey_id": passkey_id, "old_sign_count": old_sign_count, "sign_count": sign_count,
             "backed_up": backed_up, "at": at},
        )  # fmt: skip
        return result.rowcount == 1

    def insert_session(self, values: dict[str, Any]) -> None:
        self.conn.execute(_INSERT_SESSION, values)

    def get_session(self, session_id: str, *, lock: bool = False) -> Row[Any] | None:
        return self.conn.execute(_SESSION_FOR_UPDATE if lock else _SESSION_BY_ID, {"session_id": session_id}).first()

    def update_session(self, session_id: str, expected_sequence: int, values: dict[str, Any]) -> bool:
        """The session's next version; False when another change committed first (its sequence moved)."""
        result = self.conn.execute(
            update(_SESSIONS)
            .where(_SESSIONS.c.id == session_id, _SESSIONS.c.sequence == expected_sequence)
            .values(**values)
        )
        return result.rowcount == 1

    def delete_session(self, session_id: str) -> None:
        self.conn.execute(_DELETE_SESSION, {"session_id": session_id})

    def list_sessions(
        self, where: SessionFilter, *, offset: int, limit: int, ascending: bool
    ) -> tuple[int, Sequence[Row[Any]]]:
        """(how many match, the page of them by creation date)."""
        conditions = [_SESSIONS.c.id.in_(ids) for ids in where.ids]
        conditions += [_SESSIONS.c.user_id == user_id for user_id in where.user_ids]
        conditions += [_SESSIONS.c.creator_id == creator_id for creator_id in where.creator_ids]
        condition = and_(True, *conditions)
        total = self.conn.execute(select(func.count()).select_from(_SESSIONS).where(condition)).scalar_one()
        order = (_SESSIONS.c.created_at, _SESSIONS.c.id)
        rows = self.conn.execute(
            _SESSION_VIEW.where(condition)
            .order_by(*(c.asc() if ascending else c.desc() for c in order))
            .offset(offset)
            .limit(limit)
        ).all()
        return total, rows
