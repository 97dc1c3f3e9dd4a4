"""Personal access tokens of machine users (only their SHA-256 is stored)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select

from passkeys.store.models import AccessToken, MachineUser, RoleGrant
from passkeys.store.repository import Repository

# A token's machine user and its grants in one statement: the hot path of every call.
_MACHINE_BY_TOKEN = (
    select(AccessToken.expires_at, MachineUser.id, MachineUser.org_id, RoleGrant.role, RoleGrant.org_id)
    .join(MachineUser, MachineUser.id == AccessToken.user_id)
    .outerjoin(RoleGrant, RoleGrant.user_id == MachineUser.id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
    .order_by(RoleGrant.id)
)
_INSERT = insert(AccessToken.__table__)


class TokenRepository(Repository):
    __slots__ = ()

    def machine_by_token(self, token_hash: str) -> Sequence[Row[Any]]:
        """(expires_at, user id, user org, role, role org) per grant of the token's machine user
        (one row with role None when it has none); no rows for an unknown token."""
        return self.conn.execute(_MACHINE_BY_TOKEN, {"token_hash": token_hash}).all()

    def add(self, *, token_id: str, user_id: str, token_hash: str, expires_at: datetime, at: datetime) -> None:
        self.conn.execute(
            _INSERT,
            {"id": token_id, "user_id": user_id, "token_hash": token_hash, "expires_at": expires_at, "created_at": at},
        )
