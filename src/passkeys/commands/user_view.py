"""GetUserByID: a human user as stored, with what its first event keeps beyond the users table
(profile's nick_name, preferred_language, gender and email's is_verified, as AddHumanUser took them).

The holder of an unspent registration code of the user may read it too, so that the page a link
opens can greet the person; a spent code is UNAUTHENTICATED `CODE_USED`, which is how that page
tells at once that its link has been used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from passkeys.auth.authorize import authorize_user
from passkeys.auth.caller import Caller, Kind
from passkeys.auth.permissions import USER_READ
from passkeys.commands import validate
from passkeys.details import Details, details_of
from passkeys.errors import Reason, Unauthenticated
from passkeys.store.db import Database

ADDED = "user.human.added"


@dataclass(frozen=True)
class HumanView:
    user_id: str
    username: str
    login_name: str  # username@organization-domain: one user's in the instance
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
    """user.read on the user's organization, the user itself, or its registration code's holder."""
    validate.text("user_id", user_id)
    with db.read() as uow:
        user = authorize_user(uow, caller, user_id, USER_READ, self_allowed=True, code_allowed=True)
        code = uow.codes.get(caller.code_id or "") if caller.kind is Kind.CODE else None
        if code is not None and code.used_at is not None:
            raise Unauthenticated(Reason.CODE_USED, "registration code was already used")
        added: dict[str, Any] = uow.events.first_payload(user_id, ADDED) or {}
        org = uow.orgs.get(user.org_id)
        assert org is not None  # foreign key
        return HumanView(
            user_id=user.id,
            username=user.username,
            login_name=f"{user.username}@{org.domain}",
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
