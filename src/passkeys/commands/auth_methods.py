"""ListAuthenticationMethodTypes: which kinds of sign-in a user has set up, for a login UI. Here
that is a passkey (AuthenticationMethodType 2) or nothing: this service holds no other factor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from passkeys.auth.authorize import authorize_user
from passkeys.auth.caller import Caller
from passkeys.auth.permissions import USER_READ
from passkeys.commands import validate
from passkeys.store.db import Database

PASSKEY = 2  # AuthenticationMethodType numbers, as on the wire


@dataclass(frozen=True)
class MethodTypes:
    types: list[int]
    sequence: int
    timestamp: datetime


def list_authentication_method_types(db: Database, *, caller: Caller, user_id: str, domain: str | None) -> MethodTypes:
    """`domain` (upstream's domain_query.domain, the RP ID): only passkeys registered for it count;
    None or empty: any passkey. include_without_domain concerns factors without a domain
    (passwords, IdPs), which this service has none of."""
    validate.text("user_id", user_id)
    with db.read() as uow:
        user = authorize_user(uow, caller, user_id, USER_READ, self_allowed=True)
        has_passkey = uow.signin.has_ready_passkey(user_id, domain or None)
        return MethodTypes(types=[PASSKEY] if has_passkey else [], sequence=user.sequence, timestamp=user.changed_at)
