"""models.UTCDateTime binds on SQLite the very text SQLAlchemy's DATETIME would (its storage
format of the UTC time), for any instant and any offset, and refuses naive datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from passkeys.store.models import UTCDateTime

DIALECT = sqlite.dialect()
OURS = UTCDateTime()._cached_bind_processor(DIALECT)  # as SQLAlchemy and store/driver.py get it
# SQLAlchemy's own: TypeDecorator's (process_bind_param, then the DATETIME's %-format).
THEIRS = TypeDecorator.bind_processor(UTCDateTime().dialect_impl(DIALECT), DIALECT)

INSTANTS = [
    datetime(2026, 12, 4, 8, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 12, 4, 8, 0, 0, tzinfo=UTC),  # no microseconds: still six digits
    datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(999, 3, 5, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(9999, 12, 31, 12, 0, 0, 5, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2026, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-11))),
]


@pytest.mark.parametrize("at", INSTANTS, ids=str)
def test_the_same_text_as_sqlalchemys_datetime(at: datetime) -> None:
    assert OURS is not None and THEIRS is not None
    assert OURS(at) == THEIRS(at)


def test_none_and_naive() -> None:
    assert OURS is not None
    assert OURS(None) is None
    with pytest.raises(ValueError, match="naive"):
        OURS(datetime(2026, 12, 4, 8, 0))
