"""Use cases on users: the minimal AddHumanUser, and the default organization."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passkeys import ids
from passkeys.auth.caller import Caller
from passkeys.auth.permissions import USER_WRITE
from passkeys.commands import validate
from passkeys.commands.access import authorize_org
from passkeys.commands.events import Details, append_event, now
from passkeys.errors import AlreadyExists
from passkeys.store.db import Database
from passkeys.store.models import Organization, User

DEFAULT_ORG_NAME = "default"


@dataclass(frozen=True)
class NewHuman:
    given_name: str
    family_name: str
    email: str
    user_id: str | None = None
    username: str | None = None
    org_id: str | None = None
    org_domain: str | None = None
    display_name: str | None = None


def _organization(session: Session, new: NewHuman) -> Organization | None:
    if new.org_id is not None:
        return session.get(Organization, validate.identifier("organization.org_id", new.org_id))
    if new.org_domain is not None:
        domain = validate.text("organization.org_domain", new.org_domain)
        return session.scalars(select(Organization).where(Organization.domain == domain)).first()
    return session.scalars(select(Organization).order_by(Organization.created_at).limit(1)).first()


def add_human_user(db: Database, caller: Caller, new: NewHuman) -> tuple[str, Details]:
    given = validate.text("profile.given_name", new.given_name)
    family = validate.text("profile.family_name", new.family_name)
    email = validate.email("email.email", new.email)
    user_id = validate.identifier("user_id", new.user_id) if new.user_id else ids.new_id()
    username = validate.text("username", new.username) if new.username else email
    display = validate.text("profile.display_name", new.display_name) if new.display_name else f"{given} {family}"
    with db.write() as session:
        org = _organization(session, new)
        # NOT_FOUND for a missing organization only to callers whose rights cover all of them.
        authorize_org(caller, org.id if org else None, USER_WRITE)
        assert org is not None
        if session.get(User, user_id) is not None:
            raise AlreadyExists("USER_EXISTS", f"user {user_id!r} already exists", user_id=user_id)
        if session.scalars(select(User.id).where(User.username == username)).first() is not None:
            raise AlreadyExists("USERNAME_TAKEN", "username is already taken", field="username")
        at = now()
        user = User(
            id=user_id,
            org_id=org.id,
            username=username,
            given_name=given,
            family_name=family,
            display_name=display[:200],
            email=email,
            sequence=0,
            created_at=at,
            changed_at=at,
        )
        session.add(user)
        details = append_event(session, user, "user.human.added", at, username=username, org_id=org.id)
        try:
            session.flush()
        except IntegrityError:
            # A concurrent AddHumanUser took the id or username between our check and insert.
            raise AlreadyExists("USER_EXISTS", "user id or username is already taken", user_id=user_id) from None
        return user_id, details
