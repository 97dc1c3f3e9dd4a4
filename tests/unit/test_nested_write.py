"""A write inside a write of the same database fails at once, instead of waiting for itself."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from passkeys.details import now
from passkeys.store.db import Database, NestedWrite
from passkeys.store.migrate import upgrade


def test_a_nested_write_raises_at_once_and_the_outer_one_still_works(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'nested.db'}")
    try:
        upgrade(db.engine)
        start = time.monotonic()
        with db.write() as uow:
            with pytest.raises(NestedWrite, match=r"inside a db\.write"), db.write():
                pass
            assert uow.orgs.first() is None
        assert time.monotonic() - start < 1  # not the busy timeout (30 s)
        with db.write() as uow:  # the lock was given back
            uow.orgs.add(org_id="o1", name="o", domain="o.example", at=now())
        with db.read() as uow:
            assert uow.orgs.get("o1") is not None
    finally:
        db.dispose()


def test_writes_of_two_databases_may_nest(tmp_path: Path) -> None:
    first, second = (Database(f"sqlite:///{tmp_path / f'{n}.db'}") for n in ("a", "b"))
    try:
        for db in (first, second):
            upgrade(db.engine)
        with first.write(), second.write() as uow:
            assert uow.orgs.first() is None
    finally:
        first.dispose()
        second.dispose()
