"""Appending a user's events and reading `details` back from the last one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.orm import Session

from passkeys.store.models import Event, User


@dataclass(frozen=True)
class Details:
    """What every change answers: the user's last event, its owner and the user's birth."""

    sequence: int
    change_date: datetime
    resource_owner: str
    creation_date: datetime


def now() -> datetime:
    return datetime.now(UTC)


def append_event(session: Session, user: User, event_type: str, at: datetime, **payload: Any) -> Details:
    """The next event of a locked user, in the caller's transaction."""
    user.sequence += 1
    user.changed_at = at
    session.add(
        Event(
            user_id=user.id,
            sequence=user.sequence,
            type=event_type,
            resource_owner=user.org_id,
            created_at=at,
            payload=payload,
        )
    )
    return details_of(user)


_USERS = User.__table__
# Built once, so that SQLAlchemy reuses their compiled form.
_NEXT_SEQUENCE = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id"))
    .values(sequence=bindparam("sequence"), changed_at=bindparam("changed_at"))
)
_INSERT_EVENT = insert(Event.__table__)


class UserRow(Protocol):
    """What record_event reads of a user: a User, or a row with these columns."""

    id: str
    org_id: str
    sequence: int
    created_at: datetime


def record_event(conn: Connection, user: UserRow, event_type: str, at: datetime, **payload: Any) -> Details:
    """append_event in two Core statements, for the hot path (verify); `user` is not updated."""
    sequence = user.sequence + 1
    conn.execute(_NEXT_SEQUENCE, {"user_id": user.id, "sequence": sequence, "changed_at": at})
    conn.execute(
        _INSERT_EVENT,
        {
            "user_id": user.id,
            "sequence": sequence,
            "type": event_type,
            "resource_owner": user.org_id,
            "created_at": at,
            "payload": payload,
        },
    )
    return Details(sequence=sequence, change_date=at, resource_owner=user.org_id, creation_date=user.created_at)


def details_of(user: User) -> Details:
    return Details(
        sequence=user.sequence,
        change_date=user.changed_at,
        resource_owner=user.org_id,
        creation_date=user.created_at,
    )
