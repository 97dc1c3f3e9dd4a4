"""The connection of a `db.write()`: the pool's DB-API connection, the transaction on the driver.

A SQLAlchemy Connection costs a verify more Python than its statements do (issue 17: the
Connection, its RootTransaction, the begin event, the transactional context, the commit and the
close ≈ 10 % of a verify's CPU). A write checks the pooled connection out itself (the pool's
events still run: PostgreSQL's timeouts and watchdog, SQLite's connect pragmas), issues BEGIN
(SQLite) and COMMIT or ROLLBACK on the driver, and runs the hot path's statements on the
driver (store/driver.py). Driver errors are raised as SQLAlchemy raises them (IntegrityError,
OperationalError, ...), and a connection the database dropped is invalidated, as
`Connection._handle_dbapi_exception` does.

A statement that is not a DriverStatement (`conn.execute(...)`) or an ORM session gets a
SQLAlchemy Connection made on first use over the same pooled connection, inside the same
transaction; the write then commits or rolls back through it.
"""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy import Connection, Executable, Result
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

# The SQLite "begin" listener issues no BEGIN on a Connection with this option: the transaction
# it joins was begun on the driver.
JOINED = "passkeys_joined"


class LeanConnection:
    """What the repositories and DriverStatement use of a Connection, on the pooled connection."""

    __slots__ = ("_full", "connection", "dialect", "driver", "engine", "error")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = dialect = engine.dialect
        self.error: type[Exception] = dialect.loaded_dbapi.Error
        try:
            self.connection = engine.pool.connect()
        except self.error as exc:
            # A database that cannot be reached: as Engine.connect raises it.
            Connection._handle_dbapi_exception_noconnection(exc, dialect, engine)
            raise
        self.driver: Any = self.connection.driver_connection
        self._full: Connection | None = None

    def full(self) -> Connection:
        """A SQLAlchemy Connection in this transaction (made once; it shares the pooled connection)."""
        full = self._full
        if full is None:
            full = Connection(self.engine, self.connection._checkout_existing())  # type: ignore[attr-defined]
            full.execution_options(**{JOINED: True})
            full.begin()
            self._full = full
        return full

    def execute(self, statement: Executable, parameters: Any = None) -> Result[Any]:
        return self.full().execute(statement, parameters)

    def raise_driver_error(self, exc: Exception, sql: str | None, params: Any, cursor: Any) -> NoReturn:
        """`exc` of the driver as SQLAlchemy's exception; a dropped connection is invalidated
        (and the pool's older connections recycled), as Connection does."""
        if self._full is not None:
            self._full._handle_dbapi_exception(exc, sql, params, cursor, None)
        fairy = self.connection
        disconnect = fairy.is_valid and self.dialect.is_disconnect(exc, self.driver, cursor)
        error = DBAPIError.instance(
            sql,
            params,
            exc,
            self.error,
            hide_parameters=self.engine.hide_parameters,
            connection_invalidated=disconnect,
            dialect=self.dialect,
        )
        if disconnect:
            self.engine.pool._invalidate(fairy, exc)
        raise error from exc

    def commit(self) -> None:
        if self._full is not None:
            self._full.commit()
            return
        try:
            self.driver.commit()
        except self.error as exc:
            self.raise_driver_error(exc, None, None, None)

    def rollback(self) -> None:
        if self._full is not None:
            self._full.rollback()
            return
        if not self.connection.is_valid:
            return  # invalidated: nothing to roll back on
        try:
            self.driver.rollback()
        except self.error as exc:
            self.raise_driver_error(exc, None, None, None)

    def close(self, *, ended: bool) -> None:
        """Back to the pool; `ended`: committed or rolled back, no reset needed."""
        if self._full is not None:
            self._full.close()
        self.connection._close_special(transaction_reset=ended)  # type: ignore[attr-defined]
