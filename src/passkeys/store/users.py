"""Human users: read (locked for a change), added."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from passkeys.errors import AlreadyExists, Reason
from passkeys.store.models import MachineUser, User
from passkeys.store.repository import Repository

_USERS = User.__table__
_GET = select(_USERS).where(_USERS.c.id == bindparam("user_id"))
_GET_LOCKED = _GET.with_for_update()
_BY_USERNAME = select(_USERS.c.id).where(
    _USERS.c.org_id == bindparam("org_id"), _USERS.c.username == bindparam("username")
)
_INSERT = insert(_USERS)
# One id space for human and machine users: an id either holds is taken for both.
_ID_TAKEN = (
    select(_USERS.c.id)
    .where(_USERS.c.id == bindparam("user_id"))
    .union_all(select(MachineUser.id).where(MachineUser.id == bindparam("user_id")))
    .limit(1)
)


class UserRepository(Repository):
    __slots__ = ()

    def get(self, user_id: str, *, lock: bool = False) -> Row[Any] | None:
        """The user's row; `lock`: FOR UPDATE on PostgreSQL, to order its events."""
        return self.conn.execute(_GET_LOCKED if lock else _GET, {"user_id": user_id}).first()

    def exists(self, user_id: str) -> bool:
        return self.get(user_id) is not None

    def id_taken(self, user_id: str) -> bool:
        """Whether a human or a machine user has this id."""
        return self.conn.execute(_ID_TAKEN, {"user_id": user_id}).first() is not None

    def username_taken(self, org_id: str, username: str) -> bool:
        """Within the organization: usernames are unique per organization."""
        return self.conn.execute(_BY_USERNAME, {"org_id": org_id, "username": username}).first() is not None

    def add(
        self,
        *,
        user_id: str,
        org_id: str,
        username: str,
        given_name: str,
        family_name: str,
        display_name: str,
        email: str,
        at: datetime,
    ) -> Row[Any]:
        """The new user (sequence 0: its first event comes next); USER_EXISTS when a concurrent
        AddHumanUser took the id or username between the caller's check and this insert."""
        try:
            self.conn.execute(
                _INSERT,
                {
                    "id": user_id,
                    "org_id": org_id,
                    "username": username,
                    "given_name": given_name,
                    "family_name": family_name,
                    "display_name": display_name,
                    "email": email,
                    "sequence": 0,
                    "created_at": at,
                    "changed_at": at,
                },
            )
        except IntegrityError:
            raise AlreadyExists(Reason.USER_EXISTS, "user id or username is already taken", user_id=user_id) from None
        user = self.get(user_id)
        assert user is not None
        return user
