"""The per-user event log: the one way a change is recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update

from passkeys.details import Details
from passkeys.store.driver import DriverStatement
from passkeys.store.models import Event, User
from passkeys.store.repository import Repository

_USERS = User.__table__
# Every change's two statements, run on the driver (store/driver.py).
_NEXT_SEQUENCE = DriverStatement(
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id"))
    .values(sequence=bindparam("sequence"), changed_at=bindparam("changed_at"))
)
_INSERT_EVENT = DriverStatement(
    insert(Event.__table__), ["user_id", "sequence", "type", "resource_owner", "created_at", "payload"]
)
_EVENTS = Event.__table__
_FIRST_PAYLOAD = (
    select(_EVENTS.c.payload)
    .where(_EVENTS.c.user_id == bindparam("user_id"), _EVENTS.c.type == bindparam("event_type"))
    .order_by(_EVENTS.c.sequence)
    .limit(1)
)


class UserRow(Protocol):
    """What an append reads of its user: a row of users.get() or passkeys.pending()."""

    @property
    def id(self) -> str: ...
    @property
    def org_id(self) -> str: ...
    @property
    def sequence(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...


class EventRepository(Repository):
    __slots__ = ()

    def first_payload(self, user_id: str, event_type: str) -> dict[str, Any] | None:
        """The payload of the user's first event of this type (None: there is none)."""
        return self.conn.execute(_FIRST_PAYLOAD, {"user_id": user_id, "event_type": event_type}).scalar()

    def append(self, user: UserRow, event_type: str, at: datetime, **payload: Any) -> Details:
        """The next event of a locked user, in two statements; the user's sequence and change
        time move with it. `user` (a row read before) is not updated: the Details are."""
        conn = self.conn
        event, details = next_event(user, event_type, at, payload)
        _NEXT_SEQUENCE.rowcount(conn, {"user_id": user.id, "sequence": event["sequence"], "changed_at": at})
        _INSERT_EVENT.rowcount(conn, event)
        return details


def next_event(user: UserRow, event_type: str, at: datetime, payload: dict[str, Any]) -> tuple[dict[str, Any], Details]:
    """The columns of the next event of `user` and the Details it answers."""
    sequence = user.sequence + 1
    event = {
        "user_id": user.id,
        "sequence": sequence,
        "type": event_type,
        "resource_owner": user.org_id,
        "created_at": at,
        "payload": payload,
    }
    return event, Details(sequence=sequence, change_date=at, resource_owner=user.org_id, creation_date=user.created_at)
