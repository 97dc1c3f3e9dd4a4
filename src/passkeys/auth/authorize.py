"""Authorization, the one rule beside the roles (auth/permissions.py): may this caller act on
this user, or on this organization's users. Decided in the order that leaks nothing:

1. the caller is authenticated (done before any command runs);
2. a caller with no right on the target user gets PERMISSION_DENIED, whether or not the user
   exists. For a user that does not exist only instance-wide rights count, since it is in
   no organization the caller could manage;
3. a caller with the right gets NOT_FOUND for a user or passkey that does not exist.

A user always may act on their own passkeys; a registration code acts for its user only,
on RegisterPasskey (spending it) and on verifying the passkey it started.
"""

from __future__ import annotations

from typing import Any

from passkeys.auth import permissions
from passkeys.auth.caller import Caller, Kind
from passkeys.errors import PermissionDenied, Reason, organization_not_found, user_not_found
from passkeys.store.unit_of_work import UnitOfWork


def denied(permission: str) -> PermissionDenied:
    return PermissionDenied(
        Reason.PERMISSION_DENIED, f"the caller lacks {permission} on this user", permission=permission
    )


def authorize_user(
    uow: UnitOfWork,
    caller: Caller,
    user_id: str,
    permission: str,
    *,
    self_allowed: bool,
    code_allowed: bool = False,
    lock: bool = False,
) -> Any:
    """The target user's row, when `caller` holds `permission` on it; raises otherwise."""
    if caller.kind is Kind.CODE and not (code_allowed and caller.user_id == user_id):
        raise denied(permission)
    user = uow.users.get(user_id, lock=lock)
    decide(
        caller,
        user_id,
        None if user is None else user.org_id,
        permission,
        self_allowed=self_allowed,
        code_allowed=code_allowed,
    )
    assert user is not None  # decide() raised otherwise
    return user


def decide(
    caller: Caller,
    user_id: str,
    user_org_id: str | None,
    permission: str,
    *,
    self_allowed: bool,
    code_allowed: bool = False,
) -> None:
    """The decision of authorize_user on a user already read (`user_org_id` None: no such
    user), for use cases that read the user with other rows in one statement."""
    is_self = caller.user_id == user_id
    if caller.kind is Kind.CODE and not (code_allowed and is_self):
        raise denied(permission)
    if user_org_id is None:
        if permissions.allowed_everywhere(caller, permission):
            raise user_not_found(user_id)
        raise denied(permission)
    if is_self and (self_allowed or (caller.kind is Kind.CODE and code_allowed)):
        return
    if not permissions.allowed(caller, permission, user_org_id):
        raise denied(permission)


def authorize_org(caller: Caller, org_id: str | None, permission: str) -> None:
    """Before acting on an organization's users: NOT_FOUND for a missing organization only to
    callers whose rights cover every organization."""
    if org_id is None:
        if permissions.allowed_everywhere(caller, permission):
            raise organization_not_found()
        raise denied(permission)
    if not permissions.allowed(caller, permission, org_id):
        raise denied(permission)
