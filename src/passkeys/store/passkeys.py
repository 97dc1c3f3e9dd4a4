"""Passkeys: started (NOT_READY with a challenge), verified (READY), listed, renamed, removed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from passkeys.details import Details
from passkeys.errors import AlreadyExists, Reason
from passkeys.store.driver import DriverStatement
from passkeys.store.events import EventRepository, UserRow, next_event
from passkeys.store.models import Event, Passkey, User
from passkeys.store.repository import Repository

if TYPE_CHECKING:
    from passkeys.registration.verify import VerifiedCredential

NOT_READY, READY = 1, 2  # AuthFactorState numbers, stored as they are on the wire
_PASSKEYS = Passkey.__table__
_USERS = User.__table__
_VERIFIED_COLUMNS = (
    "state",
    "challenge",
    "challenge_expires_at",
    "name",
    "credential_id",
    "public_key",
    "sign_count",
    "aaguid",
    "attestation_format",
    "attestation_trusted",
    "transports",
    "backup_eligible",
    "backed_up",
    "user_verified",
    "verified_at",
)
# Built once: SQLAlchemy then reuses their compiled form on every verify.
# The target user (its row locked on PostgreSQL) and the passkey, when it is that user's.
# PostgreSQL re-reads only the locked row after waiting for the lock, so the passkey's columns
# may be those from before a concurrent verify committed: _STORE_VERIFIED checks the state again.
_PENDING = DriverStatement(
    select(
        _USERS.c.id,
        _USERS.c.org_id,
        _USERS.c.sequence,
        _USERS.c.created_at,
        _PASSKEYS.c.id.label("passkey_id"),
        _PASSKEYS.c.state,
        _PASSKEYS.c.challenge,
        _PASSKEYS.c.challenge_expires_at,
        _PASSKEYS.c.rp_id,
    )
    .select_from(
        _USERS.outerjoin(_PASSKEYS, and_(_PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.user_id == _USERS.c.id))
    )
    .where(_USERS.c.id == bindparam("user_id"))
    .with_for_update(of=_USERS)
)
# The verify's two statements run on the driver (store/driver.py): the hot path of issue 17.
_STORE_VERIFIED = DriverStatement(
    update(_PASSKEYS)
    .where(_PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.state == bindparam("pending_state"))
    .values({c: bindparam(c) for c in _VERIFIED_COLUMNS})
)
# On PostgreSQL the passkey, the user's sequence and the event in one statement (one round trip
# instead of three): data-modifying CTEs run whether or not the final SELECT reads them. When
# the passkey was not NOT_READY the caller raises and the transaction, the user's update and
# the event with it, is rolled back, as on SQLite where they follow only a stored passkey.
_STORED = (
    update(_PASSKEYS)
    .where(_PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.state == bindparam("pending_state"))
    .values({c: bindparam(c) for c in _VERIFIED_COLUMNS})
    .returning(_PASSKEYS.c.id)
    .cte("stored")
)
_MOVED = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id"))
    .values(sequence=bindparam("sequence"), changed_at=bindparam("created_at"))
    .returning(_USERS.c.id)
    .cte("moved")
)
_RECORDED = (
    insert(Event.__table__)
    .values({c: bindparam(c) for c in ("user_id", "sequence", "type", "resource_owner", "created_at", "payload")})
    .returning(Event.__table__.c.sequence)
    .cte("recorded")
)
_STORE_VERIFIED_RECORDED = DriverStatement(
    select(func.count().label("stored")).select_from(_STORED).add_cte(_MOVED, _RECORDED)
)
_EXISTS = select(_PASSKEYS.c.id).where(_PASSKEYS.c.id == bindparam("passkey_id"))
_INSERT = insert(_PASSKEYS)
_READY_OF = select(_PASSKEYS.c.credential_id, _PASSKEYS.c.transports).where(
    _PASSKEYS.c.user_id == bindparam("user_id"), _PASSKEYS.c.state == READY
)
_OF_USER = (
    select(
        _PASSKEYS.c.id, _PASSKEYS.c.state, _PASSKEYS.c.name, _PASSKEYS.c.created_at, _PASSKEYS.c.challenge_expires_at
    )
    .where(_PASSKEYS.c.user_id == bindparam("user_id"))
    .order_by(_PASSKEYS.c.created_at, _PASSKEYS.c.id)
)
# PasskeyDetailsService: everything but the credential and the challenge.
_DETAILS_OF = (
    select(
        _PASSKEYS.c.id,
        _PASSKEYS.c.state,
        _PASSKEYS.c.name,
        _PASSKEYS.c.created_at,
        _PASSKEYS.c.challenge_expires_at,
        _PASSKEYS.c.last_used_at,
        _PASSKEYS.c.rp_id,
        _PASSKEYS.c.transports,
        _PASSKEYS.c.backup_eligible,
        _PASSKEYS.c.backed_up,
        _PASSKEYS.c.aaguid,
        _PASSKEYS.c.attestation_format,
        _PASSKEYS.c.attestation_trusted,
    )
    .where(_PASSKEYS.c.user_id == bindparam("user_id"))
    .order_by(_PASSKEYS.c.created_at, _PASSKEYS.c.id)
)
_NAME_OF = select(_PASSKEYS.c.state, _PASSKEYS.c.name).where(
    _PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.user_id == bindparam("user_id")
)
_RENAME = (
    update(_PASSKEYS)
    # Not "user_id"/"name": SQLAlchemy keeps a column's own name for its SET value.
    .where(_PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.user_id == bindparam("owner"))
    .values(name=bindparam("new_name"))
)
_DELETE = delete(_PASSKEYS).where(
    _PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.user_id == bindparam("user_id")
)


class PasskeyRepository(Repository):
    __slots__ = ()

    def pending(self, user_id: str, passkey_id: str) -> Any | None:
        """The user (locked) with the columns of its passkey `passkey_id` (None when the user
        has no such passkey); None when there is no such user."""
        return _PENDING.first(self.conn, {"user_id": user_id, "passkey_id": passkey_id})

    def exists(self, passkey_id: str) -> bool:
        return self.conn.execute(_EXISTS, {"passkey_id": passkey_id}).first() is not None

    def store_verified(
        self,
        passkey_id: str,
        verified: VerifiedCredential,
        name: str,
        at: datetime,
        *,
        user: UserRow,
        event_type: str,
        payload: dict[str, Any],
    ) -> Details | None:
        """The passkey READY with its credential, its challenge cleared, and the next event of
        its (locked) user recorded (as events.append); None when it was not NOT_READY (a
        concurrent verify or removal committed first): the caller must then roll back."""
        params = self._verified_params(passkey_id, verified, name, at)
        if self.conn.dialect.name == "postgresql":
            event, details = next_event(user, event_type, at, payload)
            try:
                row = _STORE_VERIFIED_RECORDED.first(self.conn, params | event)
            except IntegrityError:
                raise _credential_exists() from None
            return details if row is not None and row.stored == 1 else None
        try:
            stored = _STORE_VERIFIED.rowcount(self.conn, params)
        except IntegrityError:
            # The credential is already stored (the unique constraint decides, in one statement
            # fewer than asking first; the transaction is rolled back).
            raise _credential_exists() from None
        if stored != 1:
            return None
        return EventRepository(self.conn).append(user, event_type, at, **payload)

    @staticmethod
    def _verified_params(passkey_id: str, verified: VerifiedCredential, name: str, at: datetime) -> dict[str, Any]:
        return {
            "passkey_id": passkey_id,
            "pending_state": NOT_READY,
            "state": READY,
            "challenge": None,
            "challenge_expires_at": None,
            "name": name,
            "credential_id": verified.credential_id,
            "public_key": verified.public_key,
            "sign_count": verified.sign_count,
            "aaguid": verified.aaguid,
            "attestation_format": verified.attestation_format,
            "attestation_trusted": verified.attestation_trusted,
            "transports": verified.transports,
            "backup_eligible": verified.backup_eligible,
            "backed_up": verified.backed_up,
            "user_verified": verified.user_verified,
            "verified_at": at,
        }

    def add_pending(
        self, *, passkey_id: str, user_id: str, challenge: bytes, rp_id: str, expires_at: datetime, at: datetime
    ) -> None:
        self.conn.execute(
            _INSERT,
            {
                "id": passkey_id,
                "user_id": user_id,
                "state": NOT_READY,
                "challenge": challenge,
                "rp_id": rp_id,
                "challenge_expires_at": expires_at,
                "created_at": at,
            },
        )

    def ready_credentials(self, user_id: str) -> Sequence[Row[Any]]:
        """(credential_id, transports) of the user's verified passkeys."""
        return self.conn.execute(_READY_OF, {"user_id": user_id}).all()

    def of_user(self, user_id: str) -> Sequence[Row[Any]]:
        """(id, state, name, created_at, challenge_expires_at) of the user's passkeys, oldest first."""
        return self.conn.execute(_OF_USER, {"user_id": user_id}).all()

    def details_of_user(self, user_id: str) -> Sequence[Row[Any]]:
        """The user's passkeys with what PasskeyDetailsService shows of them, oldest first."""
        return self.conn.execute(_DETAILS_OF, {"user_id": user_id}).all()

    def name_of(self, user_id: str, passkey_id: str) -> Row[Any] | None:
        """(state, name) of the user's passkey; None when the user has no such passkey."""
        return self.conn.execute(_NAME_OF, {"user_id": user_id, "passkey_id": passkey_id}).first()

    def rename(self, user_id: str, passkey_id: str, name: str) -> None:
        self.conn.execute(_RENAME, {"owner": user_id, "passkey_id": passkey_id, "new_name": name})

    def remove(self, user_id: str, passkey_id: str) -> bool:
        """False when the user has no such passkey."""
        return self.conn.execute(_DELETE, {"passkey_id": passkey_id, "user_id": user_id}).rowcount == 1


def _credential_exists() -> AlreadyExists:
    return AlreadyExists(Reason.CREDENTIAL_EXISTS, "this credential is already registered")
