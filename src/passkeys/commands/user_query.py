"""GetUserByID, minimally: a human user's username, profile and email, for whoever may read the
user (user.read, the user themselves), and for the holder of an unspent registration code of that
user, so that the page a link opens can greet the person; a spent code is UNAUTHENTICATED
`CODE_USED`, which is how that page tells at once that its link has been used."""

from __future__ import annotations

from dataclasses import dataclass

from passkeys.auth.authorize import authorize_user
from passkeys.auth.caller import Caller, Kind
from passkeys.auth.permissions import USER_READ
from passkeys.commands import validate
from passkeys.details import Details
from passkeys.errors import Reason, Unauthenticated
from passkeys.store.db import Database


@dataclass(frozen=True)
class UserView:
    id: str
    org_id: str
    username: str
    given_name: str
    family_name: str
    display_name: str
    email: str
    details: Details


def get_user_by_id(db: Database, caller: Caller, user_id: str) -> UserView:
    validate.text("user_id", user_id)
    with db.read() as uow:
        user = authorize_user(uow, caller, user_id, USER_READ, self_allowed=True, code_allowed=True)
        code = uow.codes.get(caller.code_id or "") if caller.kind is Kind.CODE else None
        if code is not None and code.used_at is not None:
            raise Unauthenticated(Reason.CODE_USED, "registration code was already used")
        return UserView(
            id=user.id,
            org_id=user.org_id,
            username=user.username,
            given_name=user.given_name,
            family_name=user.family_name,
            display_name=user.display_name,
            email=user.email,
            details=Details(user.sequence, user.changed_at, user.org_id, user.created_at),
        )
