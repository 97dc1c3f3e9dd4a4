"""The one authorization rule (auth/authorize.py) as a table: caller kind x role x organization
x target user. Expected: None (allowed), or the reason of the refusal."""

from __future__ import annotations

import pytest

from passkeys.auth.authorize import authorize_org, decide
from passkeys.auth.caller import Caller, Grant, Kind
from passkeys.auth.permissions import IAM_OWNER, ORG_OWNER, ORG_USER_MANAGER, USER_PASSKEY_WRITE, USER_READ
from passkeys.errors import DomainError, Reason

A, B = "org-a", "org-b"
ME, OTHER = "me", "other"
DENIED, NO_USER, NO_ORG = Reason.PERMISSION_DENIED, Reason.USER_NOT_FOUND, Reason.ORGANIZATION_NOT_FOUND


def machine(*grants: Grant) -> Caller:
    return Caller(Kind.MACHINE, "machine", A, grants)


def human(user_id: str = ME, *grants: Grant) -> Caller:
    return Caller(Kind.HUMAN, user_id, A, grants)


def code(user_id: str = ME) -> Caller:
    return Caller(Kind.CODE, user_id, A, code_id="c1")


IAM = Grant(IAM_OWNER, None)
MANAGER_A = Grant(ORG_USER_MANAGER, A)
OWNER_A = Grant(ORG_OWNER, A)

# (caller, target user, its org (None: no such user), self allowed, code allowed, expected)
USER_CASES = [
    ("instance owner, user in A", machine(IAM), OTHER, A, False, False, None),
    ("instance owner, user in B", machine(IAM), OTHER, B, False, False, None),
    ("instance owner, no such user", machine(IAM), OTHER, None, False, False, NO_USER),
    ("manager of A, user in A", machine(MANAGER_A), OTHER, A, False, False, None),
    ("owner of A, user in A", machine(OWNER_A), OTHER, A, False, False, None),
    ("manager of A, user in B", machine(MANAGER_A), OTHER, B, False, False, DENIED),
    ("manager of A, no such user", machine(MANAGER_A), OTHER, None, False, False, DENIED),
    ("no role, user in A", machine(), OTHER, A, False, False, DENIED),
    ("human, self, self allowed", human(), ME, A, True, False, None),
    ("human, self, self not allowed", human(), ME, A, False, False, DENIED),
    ("human, other user of the org", human(), OTHER, A, True, False, DENIED),
    ("human manager of A, other user in A", human(ME, MANAGER_A), OTHER, A, True, False, None),
    ("code, its user, codes allowed", code(), ME, A, True, True, None),
    ("code, its user, codes not allowed", code(), ME, A, True, False, DENIED),
    ("code, another user", code(), OTHER, A, True, True, DENIED),
    ("code, its user gone", code(), ME, None, True, True, DENIED),
]


@pytest.mark.parametrize(
    ("caller", "user_id", "org_id", "self_allowed", "code_allowed", "expected"),
    [case[1:] for case in USER_CASES],
    ids=[case[0] for case in USER_CASES],
)
def test_decide_on_a_user(
    caller: Caller, user_id: str, org_id: str | None, self_allowed: bool, code_allowed: bool, expected: str | None
) -> None:
    for permission in (USER_READ, USER_PASSKEY_WRITE):
        if expected is None:
            decide(caller, user_id, org_id, permission, self_allowed=self_allowed, code_allowed=code_allowed)
            continue
        with pytest.raises(DomainError) as refused:
            decide(caller, user_id, org_id, permission, self_allowed=self_allowed, code_allowed=code_allowed)
        assert refused.value.reason == expected


ORG_CASES = [
    ("instance owner, org A", machine(IAM), A, None),
    ("instance owner, no such org", machine(IAM), None, NO_ORG),
    ("manager of A, org A", machine(MANAGER_A), A, None),
    ("manager of A, org B", machine(MANAGER_A), B, DENIED),
    ("manager of A, no such org", machine(MANAGER_A), None, DENIED),
    ("code", code(), A, DENIED),
]


@pytest.mark.parametrize(("caller", "org_id", "expected"), [c[1:] for c in ORG_CASES], ids=[c[0] for c in ORG_CASES])
def test_authorize_org(caller: Caller, org_id: str | None, expected: str | None) -> None:
    if expected is None:
        authorize_org(caller, org_id, USER_READ)
        return
    with pytest.raises(DomainError) as refused:
        authorize_org(caller, org_id, USER_READ)
    assert refused.value.reason == expected
