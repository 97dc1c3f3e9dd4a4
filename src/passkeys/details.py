"""What every change answers (`details`), and the clock its events are stamped with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Details:
    """The user's last event, its owner and the user's birth."""

    sequence: int
    change_date: datetime
    resource_owner: str
    creation_date: datetime


def details_of(user: Any) -> Details:
    """The Details of a user row as it stands (its last event), for a read."""
    return Details(
        sequence=user.sequence, change_date=user.changed_at, resource_owner=user.org_id, creation_date=user.created_at
    )


def now() -> datetime:
    return datetime.now(UTC)
