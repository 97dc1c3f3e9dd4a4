"""Engine and transactions: one `Database` per process, one transaction per use case.

`db.write()` is the unit of work for a change: on SQLite writers take turns on a lock (of the
process, then a lock file shared by worker processes) and start with BEGIN IMMEDIATE, so they
never fail on lock upgrade; on
PostgreSQL the commands lock the user's row (SELECT ... FOR UPDATE) to order its events.

Waits are bounded: by the call's deadline (passkeys.deadline) when it has one, a SQLite busy
timeout or PostgreSQL lock and statement timeouts set per transaction (PG_TRANSACTION_TIMEOUT_S
at most); a database that cannot be reached in PG_CONNECT_TIMEOUT_S, or a pool with no free
connection in POOL_TIMEOUT_S, is UNAVAILABLE, and so is a hung one, whose connection the
watchdog cuts. A write whose deadline has passed is rolled back instead of committed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from passkeys import deadline
from passkeys.errors import Reason, Unavailable, deadline_exceeded
from passkeys.store.lean import JOINED, LeanConnection
from passkeys.store.unit_of_work import UnitOfWork
from passkeys.store.watchdog import Watchdog

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 30
# A stopped or unreachable PostgreSQL must turn into UNAVAILABLE within seconds, not hang.
PG_CONNECT_TIMEOUT_S = 3
POOL_TIMEOUT_S = 3
# The longest a PostgreSQL transaction may take without a deadline (lock waits included);
# a hung connection is cut WATCHDOG_GRACE_S after that.
PG_TRANSACTION_TIMEOUT_S = 5
WATCHDOG_GRACE_S = 1.0
# A ping answers in milliseconds; a connection that does not within this is replaced.
PING_TIMEOUT_S = 1.0
# The checkout's ping: the timeouts of the transaction it opens (set_config's third argument
# true: SET LOCAL).
_PG_TIMEOUTS = "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)"
# Keepalives notice a peer that vanished (host down, cable cut) on an idle connection.
PG_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3, "keepalives_count": 3}


def _wait_ms(default_s: float) -> int:
    """How long a lock may be waited for: up to the call's deadline, at least 1 ms."""
    left = deadline.remaining()
    return max(1, int(1000 * (default_s if left is None else min(default_s, left))))


def _sqlite_begin(pooled: Any, begin: str) -> None:
    """BEGIN on the driver's connection (exec_driver_sql costs ~0.1 ms of Python each). The busy
    timeout is how long BEGIN IMMEDIATE queues behind another writer: set again only when it
    changes (a call with a deadline tighter than SQLITE_BUSY_TIMEOUT_S)."""
    driver = pooled.driver_connection
    busy_ms = _wait_ms(SQLITE_BUSY_TIMEOUT_S)
    info = pooled.info
    if info.get("busy_ms") != busy_ms:
        driver.execute(f"PRAGMA busy_timeout = {busy_ms}")
        info["busy_ms"] = busy_ms
    driver.execute(begin)


def _sqlite_begin_immediate(conn: LeanConnection) -> None:
    """A write's BEGIN: IMMEDIATE, so that it never fails on lock upgrade."""
    try:
        _sqlite_begin(conn.connection, "BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        conn.raise_driver_error(exc, "BEGIN IMMEDIATE", None, None)


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # BEGIN is ours: a write's on the driver (BEGIN IMMEDIATE), a read's in the "begin" event
        # (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read's transaction; a write's is begun on the driver (store/lean.py), and a
        # Connection made inside it joins it.
        if conn.get_execution_options().get(JOINED):
            return
        begin = "BEGIN DEFERRED"
        try:
            _sqlite_begin(conn.connection, begin)
        except sqlite3.Error as exc:
            # As exec_driver_sql would raise it (a busy database: OperationalError).
            raise DBAPIError.instance(begin, None, exc, sqlite3.Error) from exc

    return engine


def _postgres_engine(url: str, watchdog: Watchdog) -> Engine:
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S, **PG_KEEPALIVES},
    )

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        # Our own pre-ping, under the watchdog (SQLAlchemy's pool_pre_ping runs before any
        # event, where a hung connection could not be cut): a connection dropped by a
        # database restart is replaced, not used. The ping is the statement that sets the
        # transaction's lock and statement timeouts (psycopg opens the transaction with it,
        # and the checkout's one transaction follows), so it costs no round trip of its own:
        # a verify makes 6, not 8 (issue 17). Only for the service's transactions (migrations
        # may take long), local to this transaction: the pooled connection keeps its defaults.
        if not watchdog.guarded():
            return
        ms = str(_wait_ms(PG_TRANSACTION_TIMEOUT_S))
        try:
            with watchdog.guard(PING_TIMEOUT_S):
                watchdog.attach(dbapi_conn)
                cursor = dbapi_conn.cursor()
                try:
                    cursor.execute(_PG_TIMEOUTS, (ms, ms))
                finally:
                    cursor.close()
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc
        watchdog.attach(dbapi_conn)

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn: Any, _record: Any) -> None:
        watchdog.detach(dbapi_conn)

    return engine


class NestedWrite(RuntimeError):
    """A programming error: a write opened inside another write of the same database would wait
    for the outer one's lock (SQLite's writer lock, PostgreSQL's row locks) until its deadline."""


# The Database whose write this thread (or task) is inside, if any.
_writing: ContextVar[Database | None] = ContextVar("writing", default=None)


class Database:
    def __init__(self, url: str) -> None:
        self.watchdog = Watchdog()
        self.is_sqlite = url.startswith("sqlite")
        self.engine = _sqlite_engine(url) if self.is_sqlite else _postgres_engine(url, self.watchdog)
        # Reads on a Core connection, writes on the pooled DB-API connection (store/lean.py); an
        # ORM session only where a caller asks for one
        # (UnitOfWork.session: tests' and operators' ad hoc objects), none on the service's paths.
        self._sqlite_writer = threading.Lock()
        database = make_url(url).database if self.is_sqlite else None
        self._lock_file = (
            os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
            if database and database != ":memory:"
            else None
        )

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        """SQLite is a local file: its waits are bounded by the busy timeout alone."""
        if self.is_sqlite:
            yield
            return
        left = deadline.remaining()
        limit = PG_TRANSACTION_TIMEOUT_S if left is None else min(PG_TRANSACTION_TIMEOUT_S, max(left, 0))
        with self.watchdog.guard(limit + WATCHDOG_GRACE_S):
            yield

    @contextmanager
    def _bounded(self) -> Iterator[None]:
        """Around every transaction: connection errors as UNAVAILABLE (or the deadline's), and
        a PostgreSQL transaction under the watchdog."""
        with _unavailable_on_connection_errors(), self._guarded():
            yield

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        deadline.check()
        with self._bounded(), self.engine.connect() as conn, conn.begin():
            uow = UnitOfWork(conn)
            try:
                yield uow
            finally:
                uow.close()

    @contextmanager
    def connect(self) -> Iterator[UnitOfWork]:
        """A read of a few rows on a bare connection, without an ORM session (the per-call paths)."""
        deadline.check()
        with self._bounded(), self.engine.connect() as conn:
            yield UnitOfWork(conn, orm=False)

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A transaction committed once at the end, rolled back on any error, and rolled back
        too when the call's deadline has passed (the client has been told it failed). Writes do
        not nest: one inside another raises NestedWrite at once."""
        if _writing.get() is self:
            raise NestedWrite("db.write() inside a db.write() of the same database: it would wait for itself")
        deadline.check()
        token = _writing.set(self)
        try:
            with self._writer_turn(), self._bounded():
                # On the pooled DB-API connection, not a SQLAlchemy Connection (store/lean.py).
                conn = LeanConnection(self.engine)
                ended = False
                try:
                    try:
                        if self.is_sqlite:
                            _sqlite_begin_immediate(conn)
                        uow = UnitOfWork(conn)
                        try:
                            yield uow
                            uow.flush()
                            deadline.check(deadline.COMMIT_MARGIN_S)
                        finally:
                            uow.close()
                    except BaseException:
                        conn.rollback()
                        ended = True
                        raise
                    conn.commit()
                    ended = True
                finally:
                    conn.close(ended=ended)
        finally:
            _writing.reset(token)

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        # SQLite has one writer at a time. Writers queue on a lock of this process, then on a
        # lock file shared by the worker processes, instead of on SQLite's busy handler, which
        # sleeps 1, 2, 5, 10, ... 100 ms between tries while the lock is held well under 1 ms.
        if not self.is_sqlite:
            yield
            return
        # Like the busy timeout, the wait ends at the call's deadline.
        wait_s = _wait_ms(SQLITE_BUSY_TIMEOUT_S) / 1000
        until = time.monotonic() + wait_s
        if not self._sqlite_writer.acquire(timeout=wait_s):
            raise _busy()
        try:
            if self._lock_file is None:
                yield
                return
            _lock_file(self._lock_file, until)
            try:
                yield
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        finally:
            self._sqlite_writer.release()

    def dispose(self) -> None:
        self.engine.dispose()
        self.watchdog.stop()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None


def _busy() -> Exception:
    """The writer's turn did not come: past the call's deadline, or the database is busy."""
    deadline.check(0.01)
    return Unavailable(Reason.DATABASE_UNAVAILABLE, "the database is busy, retry later")


def _lock_file(fd: int, until: float) -> None:
    """An exclusive flock, polled every few hundred microseconds until the deadline."""
    pause = 0.0002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > until:
                raise _busy() from None
            time.sleep(pause)
            pause = min(pause * 2, 0.001)


def _unavailable() -> Unavailable:
    return Unavailable(Reason.DATABASE_UNAVAILABLE, "the database is unavailable, retry later")


@contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    # A lock or statement timeout, or a busy database, at the call's deadline is the deadline.
    try:
        yield
    except (OperationalError, PoolTimeout) as exc:
        if deadline.expired():
            raise deadline_exceeded() from exc
        _log_cause(exc)
        raise _unavailable() from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            _log_cause(exc)
            raise _unavailable() from exc
        raise


def _log_cause(exc: Exception) -> None:
    # The client hears only "unavailable, retry later"; the operator needs to know why (a lock
    # or statement timeout, too many clients, a cut connection). The driver's first line names
    # the cause and holds no parameters.
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    first = str(cause).strip().splitlines()[0][:200] if str(cause).strip() else ""
    log.warning("database unavailable", extra={"error": type(cause).__name__, "cause": first})
