"""What every change answers (`details`), and the clock its events are stamped with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Details:
    """The user's last event, its owner and the user's birth."""

    sequence: int
    change_date: datetime
    resource_owner: str
    creation_date: datetime


def now() -> datetime:
    return datetime.now(UTC)
