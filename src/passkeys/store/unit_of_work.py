"""One transaction and the repositories over it: `with db.write() as uow:` (or `db.read()`),
then `uow.passkeys`, `uow.users`, `uow.events`, ... Each repository is built on first use and
every statement runs on the transaction's one connection (`uow.conn`)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Executable, Result, ScalarResult
from sqlalchemy.orm import Session

from passkeys.store.codes import CodeRepository
from passkeys.store.events import EventRepository
from passkeys.store.grants import GrantRepository
from passkeys.store.lean import LeanConnection
from passkeys.store.machines import MachineRepository
from passkeys.store.orgs import OrgRepository
from passkeys.store.outbox import OutboxRepository
from passkeys.store.passkeys import PasskeyRepository
from passkeys.store.repository import Repository
from passkeys.store.session_events import SessionEventRepository
from passkeys.store.sessions import SessionRepository
from passkeys.store.tokens import TokenRepository
from passkeys.store.users import UserRepository

R = TypeVar("R", bound=Repository)


class _Lazy(Generic[R]):
    """A repository made on first access and then kept in the instance (no call after that)."""

    def __init__(self, cls: type[R]) -> None:
        self.cls = cls

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, uow: UnitOfWork, owner: type | None = None) -> R:
        repository = uow.__dict__[self.name] = self.cls(uow.conn)
        return repository


class UnitOfWork:
    passkeys = _Lazy(PasskeyRepository)
    users = _Lazy(UserRepository)
    events = _Lazy(EventRepository)
    tokens = _Lazy(TokenRepository)
    codes = _Lazy(CodeRepository)
    orgs = _Lazy(OrgRepository)
    machines = _Lazy(MachineRepository)
    grants = _Lazy(GrantRepository)
    outbox = _Lazy(OutboxRepository)
    signin = _Lazy(SessionRepository)  # sessions (zitadel.session.v2) and what a sign-in touches
    session_events = _Lazy(SessionEventRepository)

    def __init__(self, conn: Connection | LeanConnection, *, orm: bool = True) -> None:
        """The transaction's connection (db.read; db.write's on the driver, store/lean.py), or a
        bare connection without an ORM session (db.connect, a read of a few rows: orm=False)."""
        self.conn = conn
        self.orm = orm
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """An ORM session in this transaction, made on first use (the service's paths use none:
        making one costs more than the statements of a verify)."""
        assert self.orm, "no ORM session on db.connect()"
        if self._session is None:
            conn = self.conn
            self._session = Session(
                bind=conn.full() if isinstance(conn, LeanConnection) else conn, expire_on_commit=False
            )
        return self._session

    def flush(self) -> None:
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    # A statement or object of the caller's own, in this transaction: for operators' and tests'
    # ad hoc SQL. The service's own statements all live in the repositories.
    def execute(self, statement: Executable, params: dict[str, Any] | None = None) -> Result[Any]:
        if not self.orm:
            return self.conn.execute(statement, params)
        return self.session.execute(statement, params)

    def scalars(self, statement: Executable) -> ScalarResult[Any]:
        return self.session.scalars(statement)

    def add(self, instance: object) -> None:
        self.session.add(instance)
