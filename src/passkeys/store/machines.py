"""Machine users (service accounts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select

from passkeys.store.models import MachineUser
from passkeys.store.repository import Repository

_MACHINES = MachineUser.__table__
_GET = select(_MACHINES.c.id).where(_MACHINES.c.id == bindparam("user_id"))
_BY_NAME = select(_MACHINES.c.id).where(_MACHINES.c.name == bindparam("name"))
_ANY = select(_MACHINES.c.id).limit(1)
_INSERT = insert(_MACHINES)


class MachineRepository(Repository):
    __slots__ = ()

    def exists(self, user_id: str) -> bool:
        return self.conn.execute(_GET, {"user_id": user_id}).first() is not None

    def name_taken(self, name: str) -> bool:
        return self.conn.execute(_BY_NAME, {"name": name}).first() is not None

    def any(self) -> bool:
        return self.conn.execute(_ANY).first() is not None

    def add(self, *, user_id: str, org_id: str, name: str, at: datetime) -> None:
        self.conn.execute(_INSERT, {"id": user_id, "org_id": org_id, "name": name, "created_at": at})
