"""Hot-path statements run on the DB-API cursor, without SQLAlchemy's per-execution machinery.

A `DriverStatement` is a Core statement (the schema stays SQLAlchemy's) compiled once per
dialect: its SQL text, the order of its parameters, and the conversions SQLAlchemy itself
would apply to each parameter and result column (UTC datetimes as SQLite's strings, JSON,
booleans), taken from the compiled statement. Running it is then one `cursor.execute` and
those conversions: about a fifth of the Python work of `Connection.execute` (issue 17:
SQLAlchemy was ≈ 0.35 ms of a verify's CPU on SQLite). psycopg prepares a statement it has
run five times on a connection, so PostgreSQL gets prepared statements for these.

A driver error goes through SQLAlchemy's own handling (`Connection._handle_dbapi_exception`, or
its equivalent on a write's LeanConnection, store/lean.py): it is raised as SQLAlchemy's
exception (IntegrityError, OperationalError, ...) and a connection the database dropped is
invalidated, exactly as `Connection.execute` does.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from passkeys.store.lean import LeanConnection

Processor = Callable[[Any], Any]


class _Compiled:
    __slots__ = ("binds", "names", "positional", "results", "row", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect, column_keys: list[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        processors: Mapping[str, Processor] = compiled._bind_processors
        names = list(compiled.positiontup or ()) if self.positional else list(compiled.binds)
        # (bind name, its conversion or None), in the order the driver wants them.
        self.binds = [(compiled.binds[name].key, processors.get(name)) for name in names]
        self.names = names
        columns = getattr(compiled, "_result_columns", None) or []
        self.results = [c.type._cached_result_processor(dialect, None) for c in columns]
        self.row = namedtuple("Row", [c.keyname for c in columns], rename=True) if columns else None  # type: ignore[misc]


class DriverStatement:
    """`statement` with bind parameters named as the keys of the dicts it will be run with
    (`column_keys` for an INSERT with no values of its own: the columns it sets)."""

    def __init__(self, statement: ClauseElement, column_keys: list[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = column_keys
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _Compiled(self.statement, dialect, self.column_keys)
        return compiled

    def _run(self, conn: Connection | LeanConnection, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        compiled = self._compiled(conn.dialect)
        values = [params[key] if convert is None else convert(params[key]) for key, convert in compiled.binds]
        driver_params: Any = values if compiled.positional else dict(zip(compiled.names, values, strict=True))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, driver_params)
        except conn.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            if isinstance(conn, LeanConnection):
                conn.raise_driver_error(exc, compiled.sql, driver_params, cursor)
            conn._handle_dbapi_exception(exc, compiled.sql, driver_params, cursor, None)
        return compiled, cursor

    def rows(self, conn: Connection | LeanConnection, params: Mapping[str, Any]) -> list[Any]:
        compiled, cursor = self._run(conn, params)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        make, converters = compiled.row, compiled.results
        assert make is not None, "rows() of a statement that returns none"
        return [
            make(
                *[value if convert is None else convert(value) for value, convert in zip(row, converters, strict=True)]
            )
            for row in fetched
        ]

    def first(self, conn: Connection | LeanConnection, params: Mapping[str, Any]) -> Any | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def rowcount(self, conn: Connection | LeanConnection, params: Mapping[str, Any]) -> int:
        _, cursor = self._run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()
