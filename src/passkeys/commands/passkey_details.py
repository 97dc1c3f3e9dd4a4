"""Use cases of our own passkeys.v1.PasskeyDetailsService: list what we know about each passkey,
and rename one. Same callers and permissions as the user service's passkey reads and writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from passkeys.auth.authorize import authorize_user
from passkeys.auth.caller import Caller
from passkeys.auth.permissions import USER_PASSKEY_WRITE, USER_READ
from passkeys.commands import expiry, validate
from passkeys.details import Details, details_of, now
from passkeys.errors import FailedPrecondition, Reason, passkey_not_found
from passkeys.registration.metadata import Metadata
from passkeys.registration.providers import Provider, provider_of
from passkeys.store.db import Database
from passkeys.store.passkeys import NOT_READY


@dataclass(frozen=True)
class PasskeyDetailsView:
    id: str
    state: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    rp_id: str
    transports: list[str]
    backup_eligible: bool
    backed_up: bool
    aaguid: str
    provider: Provider | None
    attestation_format: str
    attestation_trusted: bool


@dataclass(frozen=True)
class PasskeyDetailsList:
    passkeys: list[PasskeyDetailsView]
    sequence: int
    timestamp: datetime


def _view(p: Any, metadata: Metadata | None) -> PasskeyDetailsView:
    """A row of PasskeyRepository.details_of_user (a NOT_READY one has no credential columns)."""
    aaguid = p.aaguid or ""
    return PasskeyDetailsView(
        id=p.id,
        state=p.state,
        name=p.name or "",
        created_at=p.created_at,
        last_used_at=p.last_used_at,
        rp_id=p.rp_id,
        transports=list(p.transports or []),
        backup_eligible=bool(p.backup_eligible),
        backed_up=bool(p.backed_up),
        aaguid=aaguid,
        provider=provider_of(aaguid, metadata) if aaguid else None,
        attestation_format=p.attestation_format or "",
        attestation_trusted=bool(p.attestation_trusted),
    )


def list_passkey_details(
    db: Database, *, caller: Caller, user_id: str, metadata: Metadata | None
) -> PasskeyDetailsList:
    """The user's passkeys as ListPasskeys lists them (an expired, never verified registration is
    none), each with its provider (by AAGUID: the community list, then `metadata`)."""
    validate.text("user_id", user_id)
    with db.read() as uow:
        user = authorize_user(uow, caller, user_id, USER_READ, self_allowed=True)
        at = now()
        views = [
            _view(p, metadata)
            for p in uow.passkeys.details_of_user(user_id)
            if not (p.state == NOT_READY and expiry.is_expired(p.challenge_expires_at, at))
        ]
        return PasskeyDetailsList(passkeys=views, sequence=user.sequence, timestamp=user.changed_at)


def rename_passkey(db: Database, *, caller: Caller, user_id: str, passkey_id: str, name: str) -> Details:
    """The passkey's name, and nothing else, changed with one event `user.human.passkey.renamed`.
    The name it has already changes nothing: no event, the user's details as they stand."""
    validate.text("user_id", user_id)
    validate.text("passkey_id", passkey_id)
    name = validate.name("name", name)
    with db.write() as uow:
        user = authorize_user(uow, caller, user_id, USER_PASSKEY_WRITE, self_allowed=True, lock=True)
        # A passkey of another user is as absent as one that never existed: nothing leaks.
        passkey = uow.passkeys.name_of(user_id, passkey_id)
        if passkey is None:
            raise passkey_not_found(passkey_id)
        if passkey.state == NOT_READY:
            # VerifyPasskeyRegistration names it: a name given before would be overwritten.
            raise FailedPrecondition(
                Reason.PASSKEY_NOT_READY, "passkey registration is not verified yet", passkey_id=passkey_id
            )
        if passkey.name == name:
            return details_of(user)
        uow.passkeys.rename(user_id, passkey_id, name)
        return uow.events.append(
            user, "user.human.passkey.renamed", now(), passkey_id=passkey_id, name=name, previous_name=passkey.name
        )
