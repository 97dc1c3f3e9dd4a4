"""Administration use cases behind the `passkeys` CLI and the first-start bootstrap:
organizations, machine users, role grants, personal access tokens. They run with the
operator's authority (access to the database), not through the API, each in the caller's
unit of work (`with db.write() as uow:`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from passkeys import ids
from passkeys.auth import tokens
from passkeys.auth.permissions import INSTANCE_ROLES, ROLES
from passkeys.commands import validate
from passkeys.details import now
from passkeys.errors import AlreadyExists, InvalidArgument, NotFound, Reason, invalid_field, organization_not_found
from passkeys.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class IssuedToken:
    id: str
    token: str  # shown once: only its hash is stored
    expires_at: datetime


def create_org(uow: UnitOfWork, *, name: str, domain: str) -> str:
    validate.text("name", name)
    validate.text("domain", domain)
    if "@" in domain:  # login names are username@domain, split at the last '@'
        raise invalid_field("domain", "an organization's domain holds no '@'")
    if uow.orgs.by_domain(domain) is not None:
        raise AlreadyExists(Reason.ORGANIZATION_EXISTS, f"an organization with domain {domain!r} exists")
    org_id = ids.new_id()
    uow.orgs.add(org_id=org_id, name=name, domain=domain, at=now())
    return org_id


def create_machine_user(uow: UnitOfWork, *, org_id: str, name: str, user_id: str | None = None) -> str:
    """`user_id` chosen by the operator, or a new one; an id a human or machine user holds is
    refused (one id space)."""
    validate.text("name", name)
    if user_id is not None:
        validate.identifier("user_id", user_id)
    if uow.orgs.get(org_id) is None:
        raise organization_not_found(org_id)
    if uow.machines.name_taken(name):
        raise AlreadyExists(Reason.MACHINE_USER_EXISTS, f"a machine user named {name!r} exists")
    if user_id is not None and uow.users.id_taken(user_id):
        raise AlreadyExists(Reason.USER_EXISTS, f"user {user_id!r} already exists")
    while user_id is None or uow.users.id_taken(user_id):  # a new id meets a taken one ~never
        user_id = ids.new_id()
    uow.machines.add(user_id=user_id, org_id=org_id, name=name, at=now())
    return user_id


def grant_role(uow: UnitOfWork, *, user_id: str, role: str, org_id: str | None) -> None:
    """`org_id` None for an instance-wide role (IAM_OWNER); org roles need an organization."""
    if role not in ROLES:
        raise invalid_field("role", f"unknown role {role!r}; known: {sorted(ROLES)}")
    if (role in INSTANCE_ROLES) != (org_id is None):
        raise InvalidArgument(Reason.INVALID_FIELD, f"{role} is granted {'instance-wide' if org_id else 'on an org'}")
    if org_id is not None and uow.orgs.get(org_id) is None:
        raise organization_not_found(org_id)
    if not uow.machines.exists(user_id) and not uow.users.exists(user_id):
        raise NotFound(Reason.USER_NOT_FOUND, f"user {user_id!r} not found")
    uow.grants.add(user_id=user_id, role=role, org_id=org_id, at=now())


def create_token(uow: UnitOfWork, *, user_id: str, expires_at: datetime) -> IssuedToken:
    if not uow.machines.exists(user_id):
        raise NotFound(Reason.USER_NOT_FOUND, f"machine user {user_id!r} not found")
    token = tokens.new_token()
    token_id = ids.new_id()
    uow.tokens.add(token_id=token_id, user_id=user_id, token_hash=tokens.digest(token), expires_at=expires_at, at=now())
    return IssuedToken(id=token_id, token=token, expires_at=expires_at)
