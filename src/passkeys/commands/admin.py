"""Administration use cases behind the `passkeys` CLI and the first-start bootstrap:
organizations, machine users, role grants, personal access tokens. They run with the
operator's authority (access to the database), not through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from passkeys import ids
from passkeys.auth import tokens
from passkeys.auth.permissions import INSTANCE_ROLES, ROLES
from passkeys.commands import validate
from passkeys.commands.events import now
from passkeys.errors import AlreadyExists, InvalidArgument, NotFound
from passkeys.store.models import AccessToken, MachineUser, Organization, RoleGrant, User


@dataclass(frozen=True)
class IssuedToken:
    id: str
    token: str  # shown once: only its hash is stored
    expires_at: datetime


def create_org(session: Session, *, name: str, domain: str) -> str:
    validate.text("name", name)
    validate.text("domain", domain)
    if session.scalars(select(Organization.id).where(Organization.domain == domain)).first() is not None:
        raise AlreadyExists("ORGANIZATION_EXISTS", f"an organization with domain {domain!r} exists")
    org = Organization(id=ids.new_id(), name=name, domain=domain, created_at=now())
    session.add(org)
    session.flush()
    return org.id


def create_machine_user(session: Session, *, org_id: str, name: str) -> str:
    validate.text("name", name)
    if session.get(Organization, org_id) is None:
        raise NotFound("ORGANIZATION_NOT_FOUND", f"organization {org_id!r} not found")
    if session.scalars(select(MachineUser.id).where(MachineUser.name == name)).first() is not None:
        raise AlreadyExists("MACHINE_USER_EXISTS", f"a machine user named {name!r} exists")
    user = MachineUser(id=ids.new_id(), org_id=org_id, name=name, created_at=now())
    session.add(user)
    session.flush()
    return user.id


def grant_role(session: Session, *, user_id: str, role: str, org_id: str | None) -> None:
    """`org_id` None for an instance-wide role (IAM_OWNER); org roles need an organization."""
    if role not in ROLES:
        raise InvalidArgument("INVALID_FIELD", f"unknown role {role!r}; known: {sorted(ROLES)}", field="role")
    if (role in INSTANCE_ROLES) != (org_id is None):
        raise InvalidArgument("INVALID_FIELD", f"{role} is granted {'instance-wide' if org_id else 'on an org'}")
    if org_id is not None and session.get(Organization, org_id) is None:
        raise NotFound("ORGANIZATION_NOT_FOUND", f"organization {org_id!r} not found")
    if session.get(MachineUser, user_id) is None and session.get(User, user_id) is None:
        raise NotFound("USER_NOT_FOUND", f"user {user_id!r} not found")
    session.add(RoleGrant(user_id=user_id, org_id=org_id, role=role, created_at=now()))
    session.flush()


def create_token(session: Session, *, user_id: str, expires_at: datetime) -> IssuedToken:
    if session.get(MachineUser, user_id) is None:
        raise NotFound("USER_NOT_FOUND", f"machine user {user_id!r} not found")
    token = tokens.new_token()
    row = AccessToken(
        id=ids.new_id(), user_id=user_id, token_hash=tokens.digest(token), expires_at=expires_at, created_at=now()
    )
    session.add(row)
    session.flush()
    return IssuedToken(id=row.id, token=token, expires_at=expires_at)
