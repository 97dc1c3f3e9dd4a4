"""Organizations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select

from passkeys.store.models import Organization
from passkeys.store.repository import Repository

_ORGS = Organization.__table__
_GET = select(_ORGS).where(_ORGS.c.id == bindparam("org_id"))
_BY_DOMAIN = select(_ORGS).where(_ORGS.c.domain == bindparam("domain"))
_FIRST = select(_ORGS).order_by(_ORGS.c.created_at).limit(1)
_INSERT = insert(_ORGS)


class OrgRepository(Repository):
    __slots__ = ()

    def get(self, org_id: str) -> Row[Any] | None:
        return self.conn.execute(_GET, {"org_id": org_id}).first()

    def by_domain(self, domain: str) -> Row[Any] | None:
        return self.conn.execute(_BY_DOMAIN, {"domain": domain}).first()

    def first(self) -> Row[Any] | None:
        """The oldest organization: the default one."""
        return self.conn.execute(_FIRST).first()

    def add(self, *, org_id: str, name: str, domain: str, at: datetime) -> None:
        self.conn.execute(_INSERT, {"id": org_id, "name": name, "domain": domain, "created_at": at})
