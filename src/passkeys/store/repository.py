"""What every repository shares: the one connection of its unit of work's transaction (not the
unit of work itself, which holds the repositories: no reference cycle, so a finished
transaction is freed at once, not by the garbage collector)."""

from __future__ import annotations

from sqlalchemy import Connection

from passkeys.store.lean import LeanConnection


class Repository:
    __slots__ = ("conn",)

    def __init__(self, conn: Connection | LeanConnection) -> None:
        self.conn = conn
