"""Use cases on users: the minimal AddHumanUser, and the default organization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from passkeys import ids
from passkeys.auth.authorize import authorize_org
from passkeys.auth.caller import Caller
from passkeys.auth.permissions import USER_WRITE
from passkeys.commands import validate
from passkeys.details import Details, now
from passkeys.errors import AlreadyExists, InvalidArgument, Reason, invalid_field
from passkeys.store.db import Database
from passkeys.store.unit_of_work import UnitOfWork

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
    nick_name: str | None = None
    preferred_language: str | None = None
    gender: int | None = None  # zitadel.user.v2.Gender
    email_verified: bool | None = None
    # Request fields set that this service does not implement (named as upstream names them).
    unsupported: tuple[str, ...] = ()


def _organization(uow: UnitOfWork, new: NewHuman) -> Any:
    if new.org_id is not None:
        return uow.orgs.get(validate.identifier("organization.org_id", new.org_id))
    if new.org_domain is not None:
        return uow.orgs.by_domain(validate.text("organization.org_domain", new.org_domain))
    return uow.orgs.first()


# zitadel.user.v2.Gender: UNSPECIFIED, FEMALE, MALE, DIVERSE.
GENDERS = range(4)


def _profile_extras(new: NewHuman) -> dict[str, object]:
    """What upstream's profile and email carry beyond our columns, kept in the user's first event."""
    extras: dict[str, object] = {}
    if new.nick_name is not None:
        extras["nick_name"] = validate.bounded("profile.nick_name", new.nick_name, max_len=200)
    if new.preferred_language is not None:
        extras["preferred_language"] = validate.language("profile.preferred_language", new.preferred_language)
    if new.gender is not None:
        if new.gender not in GENDERS:
            raise invalid_field("profile.gender", "profile.gender is not a Gender value")
        extras["gender"] = new.gender
    if new.email_verified is not None:
        extras["email_verified"] = new.email_verified
    return extras


def add_human_user(db: Database, caller: Caller, new: NewHuman) -> tuple[str, Details]:
    if new.unsupported:
        field = new.unsupported[0]
        raise InvalidArgument(
            Reason.UNSUPPORTED_FIELD,
            f"{field} is not supported by this service (it enrols passkeys only); leave it unset",
            field=field,
        )
    given = validate.name("profile.given_name", new.given_name)
    family = validate.name("profile.family_name", new.family_name)
    email = validate.email("email.email", new.email)
    # Set means set: an empty user_id or username is refused (upstream: 1..200 characters).
    user_id = validate.identifier("user_id", new.user_id) if new.user_id is not None else ids.new_id()
    # Stored case-mapped, so that look-alike usernames collide (the unique index sees them equal).
    username = validate.username("username", new.username if new.username is not None else email)
    display = validate.name("profile.display_name", new.display_name) if new.display_name else f"{given} {family}"
    extras = _profile_extras(new)
    with db.write() as uow:
        org = _organization(uow, new)
        # NOT_FOUND for a missing organization only to callers whose rights cover all of them.
        authorize_org(caller, org.id if org else None, USER_WRITE)
        assert org is not None
        # Human and machine users share one id space (a JWT's `sub` must never name a machine
        # user); the answer is the same whoever holds the id, in whichever organization.
        if uow.users.id_taken(user_id):
            raise AlreadyExists(Reason.USER_EXISTS, f"user {user_id!r} already exists", user_id=user_id)
        # Unique within the organization only: other organizations' usernames are not told.
        if uow.users.username_taken(org.id, username):
            raise AlreadyExists(Reason.USERNAME_TAKEN, "username is already taken", field="username")
        at = now()
        user = uow.users.add(
            user_id=user_id,
            org_id=org.id,
            username=username,
            given_name=given,
            family_name=family,
            display_name=display[:200],
            email=email,
            at=at,
        )
        details = uow.events.append(user, "user.human.added", at, username=username, org_id=org.id, **extras)
        return user_id, details
