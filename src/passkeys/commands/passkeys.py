"""Use cases on passkeys: register (start), verify (finish), list, remove.

The state machine: RegisterPasskey creates a NOT_READY passkey holding a fresh challenge;
VerifyPasskeyRegistration turns exactly that passkey READY once every check passes and
clears the challenge, so it works once. Every failure leaves the database untouched.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from passkeys import ids
from passkeys.auth.authorize import authorize_user, decide, denied
from passkeys.auth.caller import Caller, Kind
from passkeys.auth.permissions import USER_PASSKEY_WRITE, USER_READ
from passkeys.commands import expiry, validate
from passkeys.details import Details, now
from passkeys.errors import (
    FailedPrecondition,
    Reason,
    Unauthenticated,
    invalid_field,
    passkey_already_verified,
    passkey_not_found,
)
from passkeys.limits import MAX_CREDENTIAL_JSON, MIN_CREDENTIAL_JSON
from passkeys.registration.options import ExistingCredential, RelyingParty, choose_rp_id, creation_options
from passkeys.registration.verify import Policy, verify_credential
from passkeys.store.db import Database
from passkeys.store.passkeys import NOT_READY
from passkeys.store.unit_of_work import UnitOfWork

CHALLENGE_BYTES = 32
ATTACHMENTS = (None, "platform", "cross-platform")


@dataclass(frozen=True)
class Registration:
    details: Details
    passkey_id: str
    options: dict[str, Any]


@dataclass(frozen=True)
class PasskeyView:
    id: str
    state: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class PasskeyList:
    passkeys: list[PasskeyView]
    sequence: int
    timestamp: datetime


def check_credential_size(json_length: int) -> None:
    """The credential's JSON must be 55..1 MiB characters."""
    if not MIN_CREDENTIAL_JSON <= json_length <= MAX_CREDENTIAL_JSON:
        raise invalid_field(
            "public_key_credential",
            f"public_key_credential must be {MIN_CREDENTIAL_JSON}..{MAX_CREDENTIAL_JSON} characters of JSON, "
            f"got {json_length}",
        )


def _pending_challenge(passkey_id: str, passkey: Any) -> tuple[bytes, str]:
    """The challenge and RP ID of a passkey still waiting for its verification."""
    if passkey.state != NOT_READY or passkey.challenge is None:
        raise passkey_already_verified(passkey_id)
    if passkey.challenge_expires_at is None or passkey.challenge_expires_at <= now():
        raise FailedPrecondition(
            Reason.CHALLENGE_EXPIRED,
            "passkey registration challenge expired, call RegisterPasskey again",
            passkey_id=passkey_id,
        )
    return passkey.challenge, passkey.rp_id


def _spend_code(uow: UnitOfWork, caller: Caller, passkey_id: str, at: datetime) -> None:
    """RegisterPasskey by a code: the code is used up and bound to the passkey it started."""
    assert caller.code_id is not None
    code = uow.codes.get(caller.code_id, lock=True)
    assert code is not None  # authenticated a moment ago; codes are never deleted
    if code.used_at is not None:
        raise Unauthenticated(Reason.CODE_USED, "registration code was already used")
    if code.expires_at <= at:
        raise Unauthenticated(Reason.CODE_EXPIRED, "registration code expired")
    uow.codes.spend(code.id, passkey_id=passkey_id, at=at)


def _code_covers(uow: UnitOfWork, caller: Caller, passkey_id: str) -> None:
    """A code proves the right to verify only the passkey it started."""
    if caller.kind is not Kind.CODE:
        return
    assert caller.code_id is not None
    code = uow.codes.get(caller.code_id)
    if code is None or code.passkey_id != passkey_id:
        raise denied(USER_PASSKEY_WRITE)


class PasskeyCommands:
    def __init__(self, db: Database, rp: RelyingParty, policy: Policy) -> None:
        self.db = db
        self.rp = rp
        self.policy = policy

    def register(self, *, caller: Caller, user_id: str, attachment: str | None, domain: str) -> Registration:
        validate.text("user_id", user_id)
        if attachment not in ATTACHMENTS:
            raise invalid_field("authenticator", "authenticator is not a known value")
        rp_id = choose_rp_id(self.rp.id, domain)
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        with self.db.write() as uow:
            user = authorize_user(
                uow, caller, user_id, USER_PASSKEY_WRITE, self_allowed=True, code_allowed=True, lock=True
            )
            ready = uow.passkeys.ready_credentials(user_id)
            at = now()
            passkey_id = ids.new_id()
            uow.passkeys.add_pending(
                passkey_id=passkey_id,
                user_id=user_id,
                challenge=challenge,
                rp_id=rp_id,
                expires_at=at + timedelta(seconds=self.rp.challenge_ttl_s),
                at=at,
            )
            if caller.kind is Kind.CODE:
                _spend_code(uow, caller, passkey_id, at)
            details = uow.events.append(user, "user.human.passkey.added", at, passkey_id=passkey_id, rp_id=rp_id)
            options = creation_options(
                rp_id=rp_id,
                rp_name=self.rp.name,
                user_handle=user.id.encode(),
                user_name=user.username,
                user_display_name=user.display_name,
                challenge=challenge,
                timeout_ms=self.rp.challenge_ttl_s * 1000,
                algorithms=self.rp.algorithms,
                attachment=attachment,
                attestation=self.rp.attestation,
                exclude=[ExistingCredential(p.credential_id or b"", p.transports or []) for p in ready],
            )
            return Registration(details=details, passkey_id=passkey_id, options=options)

    def verify(
        self,
        *,
        caller: Caller,
        user_id: str,
        passkey_id: str,
        credential: Mapping[str, Any],
        json_length: int,
        name: str,
    ) -> Details:
        """`credential` is the browser's JSON object, `json_length` the characters of its JSON."""
        validate.text("user_id", user_id)
        validate.text("passkey_id", passkey_id)
        name = validate.name("passkey_name", name)
        check_credential_size(json_length)
        # One transaction: the user's row is locked (PostgreSQL) or the database's write lock
        # held (SQLite) through the cryptography, a fraction of a millisecond for the formats
        # we see; in exchange nothing is read twice and no second transaction is needed.
        with self.db.write() as uow:
            row = uow.passkeys.pending(user_id, passkey_id)
            decide(
                caller,
                user_id,
                None if row is None else row.org_id,
                USER_PASSKEY_WRITE,
                self_allowed=True,
                code_allowed=True,
            )
            assert row is not None  # decide() raised otherwise
            _code_covers(uow, caller, passkey_id)
            # A passkey of another user is as absent as one that never existed: nothing leaks.
            if row.passkey_id is None:
                raise passkey_not_found(passkey_id)
            challenge, rp_id = _pending_challenge(passkey_id, row)
            verified = verify_credential(credential=credential, challenge=challenge, rp_id=rp_id, policy=self.policy)
            at = now()
            details = uow.passkeys.store_verified(
                passkey_id,
                verified,
                name,
                at,
                user=row,
                event_type="user.human.passkey.verified",
                payload={
                    "passkey_id": passkey_id,
                    "name": name,
                    "aaguid": verified.aaguid,
                    "attestation_format": verified.attestation_format,
                },
            )
            if details is None:
                # A concurrent verify (or removal) of this passkey committed first.
                if not uow.passkeys.exists(passkey_id):
                    raise passkey_not_found(passkey_id)
                raise passkey_already_verified(passkey_id)
            return details

    def list(self, *, caller: Caller, user_id: str) -> PasskeyList:
        validate.text("user_id", user_id)
        with self.db.read() as uow:
            user = authorize_user(uow, caller, user_id, USER_READ, self_allowed=True)
            at = now()
            # A registration never verified whose challenge expired is no passkey anyone has
            # (commands/expiry.py removes it later).
            views = [
                PasskeyView(p.id, p.state, p.name or "", p.created_at)
                for p in uow.passkeys.of_user(user_id)
                if not (p.state == NOT_READY and expiry.is_expired(p.challenge_expires_at, at))
            ]
            return PasskeyList(passkeys=views, sequence=user.sequence, timestamp=user.changed_at)

    def remove(self, *, caller: Caller, user_id: str, passkey_id: str) -> Details:
        validate.text("user_id", user_id)
        validate.text("passkey_id", passkey_id)
        with self.db.write() as uow:
            user = authorize_user(uow, caller, user_id, USER_PASSKEY_WRITE, self_allowed=True, lock=True)
            # A passkey of another user is as absent as one that never existed: nothing leaks.
            if not uow.passkeys.remove(user_id, passkey_id):
                raise passkey_not_found(passkey_id)
            return uow.events.append(user, "user.human.passkey.removed", now(), passkey_id=passkey_id)
