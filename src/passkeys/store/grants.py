"""Role grants of users (machine or human), on one organization or instance-wide."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select

from passkeys.store.models import RoleGrant
from passkeys.store.repository import Repository

_GRANTS = RoleGrant.__table__
_OF_USER = (
    select(_GRANTS.c.role, _GRANTS.c.org_id).where(_GRANTS.c.user_id == bindparam("user_id")).order_by(_GRANTS.c.id)
)
_INSERT = insert(_GRANTS)


class GrantRepository(Repository):
    __slots__ = ()

    def of_user(self, user_id: str) -> Sequence[Row[Any]]:
        """(role, org_id) of the user's grants, oldest first."""
        return self.conn.execute(_OF_USER, {"user_id": user_id}).all()

    def add(self, *, user_id: str, role: str, org_id: str | None, at: datetime) -> None:
        self.conn.execute(_INSERT, {"user_id": user_id, "org_id": org_id, "role": role, "created_at": at})
