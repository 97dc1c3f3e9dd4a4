"""Engine and transactions: one `Database` per process, one transaction per use case.

`db.write()` is the unit of work for a change: on SQLite it starts with BEGIN IMMEDIATE so
that concurrent writers queue on the busy timeout instead of failing on lock upgrade; on
PostgreSQL the commands lock the user's row (SELECT ... FOR UPDATE) to order its events.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from passkeys.errors import Unavailable

SQLITE_BUSY_TIMEOUT_S = 30


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN " + conn.get_execution_options().get("sqlite_begin", "DEFERRED"))

    return engine


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # pool_pre_ping: a connection dropped by a database restart is replaced, not used.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=5)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False)
        self._sqlite_writer = threading.RLock()
        self._writer_depth = 0
        database = make_url(url).database if self.is_sqlite else None
        self._lock_file = (
            os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
            if database and database != ":memory:"
            else None
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _unavailable_on_connection_errors(), self._read.begin() as session:
            yield session

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for a read of a few rows without the ORM (the per-call paths)."""
        with _unavailable_on_connection_errors(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction committed once at the end, rolled back on any error."""
        with self._writer_turn(), _unavailable_on_connection_errors(), self._write.begin() as session:
            yield session

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        # SQLite has one writer at a time. Writers queue on a lock of this process, then on a
        # lock file shared by the worker processes, instead of on SQLite's busy handler, which
        # sleeps 1, 2, 5, 10, ... 100 ms between tries while the lock is held well under 1 ms.
        if not self.is_sqlite:
            yield
            return
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
        if not self._sqlite_writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):
            raise Unavailable("DATABASE_UNAVAILABLE", "the database is busy, retry later")
        try:
            self._writer_depth += 1
            if self._writer_depth == 1 and self._lock_file is not None:
                _lock_file(self._lock_file, deadline)
            try:
                yield
            finally:
                if self._writer_depth == 1 and self._lock_file is not None:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._writer_depth -= 1
        finally:
            self._sqlite_writer.release()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None


def _lock_file(fd: int, deadline: float) -> None:
    """An exclusive flock, polled every few hundred microseconds until the deadline."""
    pause = 0.0002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise Unavailable("DATABASE_UNAVAILABLE", "the database is busy, retry later") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.001)


@contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        raise Unavailable("DATABASE_UNAVAILABLE", "the database is unavailable, retry later") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise Unavailable("DATABASE_UNAVAILABLE", "the database is unavailable, retry later") from exc
        raise
