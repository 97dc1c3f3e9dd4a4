"""GetUserByID: a human user as stored, with what its first event keeps beyond the users table
(profile's nick_name, preferred_language, gender and email's is_verified, as AddHumanUser took them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from passkeys.auth.authorize import authorize_user
from passkeys.auth.caller import Caller
from passkeys.auth.permissions import USER_READ
from passkeys.commands import validate
from passkeys.details import Details, details_of
from passkeys.store.db import Database

ADDED = "user.human.added"


@dataclass(frozen=True)
class HumanView:
    user_id: str
    username: str
    given_name: str
    family_name: str
    display_name: str
    email: str
    email_verified: bool
    nick_name: str | None
    preferred_language: str | None
    gender: int | None
    details: Details


def get_user(db: Database, *, caller: Caller, user_id: str) -> HumanView:
    """The same rights as ListPasskeys: user.read on the user's organization, or the user itself."""
    validate.text("user_id", user_id)
    with db.read() as uow:
        user = authorize_user(uow, caller, user_id, USER_READ, self_allowed=True)
        added: dict[str, Any] = uow.events.first_payload(user_id, ADDED) or {}
        return HumanView(
            user_id=user.id,
            username=user.username,
            given_name=user.given_name,
            family_name=user.family_name,
            display_name=user.display_name,
            email=user.email,
            email_verified=bool(added.get("email_verified", False)),
            nick_name=added.get("nick_name"),
            preferred_language=added.get("preferred_language"),
            gender=added.get("gender"),
            details=details_of(user),
        )
