"""Roles and what they allow. A role is granted on one organization or instance-wide."""

from __future__ import annotations

from passkeys.auth.caller import Caller, Kind

USER_READ = "user.read"
USER_WRITE = "user.write"
USER_PASSKEY_WRITE = "user.passkey.write"
# Sessions are instance-wide (as ZITADEL's): only instance-wide grants give these.
SESSION_READ = "session.read"
SESSION_WRITE = "session.write"
SESSION_DELETE = "session.delete"

IAM_OWNER = "IAM_OWNER"
ORG_OWNER = "ORG_OWNER"
ORG_USER_MANAGER = "ORG_USER_MANAGER"
IAM_LOGIN_CLIENT = "IAM_LOGIN_CLIENT"  # a login UI's machine user: signs users in, nothing else

_ORG_USERS = frozenset({USER_READ, USER_WRITE, USER_PASSKEY_WRITE})
_SESSIONS = frozenset({SESSION_READ, SESSION_WRITE, SESSION_DELETE})
ROLES: dict[str, frozenset[str]] = {
    IAM_OWNER: _ORG_USERS | _SESSIONS,  # on every organization: its grant has no org
    IAM_LOGIN_CLIENT: _SESSIONS | {USER_READ},  # user.read: which users have a passkey
    ORG_OWNER: _ORG_USERS,
    ORG_USER_MANAGER: _ORG_USERS,
}
INSTANCE_ROLES = frozenset({IAM_OWNER, IAM_LOGIN_CLIENT})


def allowed(caller: Caller, permission: str, org_id: str) -> bool:
    """Whether the caller's roles allow `permission` on users of organization `org_id`."""
    if caller.kind is Kind.CODE:
        return False  # a code proves one registration, never a role
    return any(
        permission in ROLES.get(g.role, frozenset()) and (g.org_id is None or g.org_id == org_id) for g in caller.grants
    )


def allowed_everywhere(caller: Caller, permission: str) -> bool:
    """Whether `permission` holds on every organization (so a missing user may be named as such)."""
    if caller.kind is Kind.CODE:
        return False
    return any(g.org_id is None and permission in ROLES.get(g.role, frozenset()) for g in caller.grants)
