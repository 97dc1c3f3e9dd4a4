"""Passkey registration codes: issued, tried (wrong tries counted), spent on one passkey."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update

from passkeys.store.models import RegistrationCode
from passkeys.store.repository import Repository

_CODES = RegistrationCode.__table__
_GET = select(_CODES).where(_CODES.c.id == bindparam("code_id"))
_GET_LOCKED = _GET.with_for_update()
_INSERT = insert(_CODES)
_FAILED = update(_CODES).where(_CODES.c.id == bindparam("code_id")).values(failed_attempts=_CODES.c.failed_attempts + 1)
_SPEND = (
    update(_CODES)
    .where(_CODES.c.id == bindparam("code_id"))
    .values(used_at=bindparam("used_at"), passkey_id=bindparam("passkey_id"))
)


class CodeRepository(Repository):
    __slots__ = ()

    def get(self, code_id: str, *, lock: bool = False) -> Row[Any] | None:
        return self.conn.execute(_GET_LOCKED if lock else _GET, {"code_id": code_id}).first()

    def add(self, *, code_id: str, user_id: str, code_hash: str, at: datetime, expires_at: datetime) -> None:
        self.conn.execute(
            _INSERT,
            {
                "id": code_id,
                "user_id": user_id,
                "code_hash": code_hash,
                "created_at": at,
                "expires_at": expires_at,
                "failed_attempts": 0,
            },
        )

    def count_failed_attempt(self, code_id: str) -> None:
        self.conn.execute(_FAILED, {"code_id": code_id})

    def spend(self, code_id: str, *, passkey_id: str, at: datetime) -> None:
        """Used up, and bound to the passkey it started."""
        self.conn.execute(_SPEND, {"code_id": code_id, "used_at": at, "passkey_id": passkey_id})
