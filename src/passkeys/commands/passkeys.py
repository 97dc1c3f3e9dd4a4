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

from sqlalchemy import Connection, and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passkeys import ids
from passkeys.auth.caller import Caller, Kind
from passkeys.auth.permissions import USER_PASSKEY_WRITE, USER_READ
from passkeys.commands import validate
from passkeys.commands.access import authorize_user, decide, denied
from passkeys.commands.events import Details, UserRow, append_event, details_of, now, record_event
from passkeys.config import Settings
from passkeys.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Unauthenticated
from passkeys.limits import MAX_CREDENTIAL_JSON, MIN_CREDENTIAL_JSON
from passkeys.registration.attestation_policy import load_attestation_policy
from passkeys.registration.options import ExistingCredential, choose_rp_id, creation_options
from passkeys.registration.verify import Policy, VerifiedCredential, verify_credential
from passkeys.store.db import Database
from passkeys.store.models import Passkey, RegistrationCode, User

NOT_READY, READY = 1, 2  # AuthFactorState numbers, stored as they are on the wire
CHALLENGE_BYTES = 32
ATTACHMENTS = (None, "platform", "cross-platform")
_VERIFIED_COLUMNS = (
    "state",
    "challenge",
    "challenge_expires_at",
    "name",
    "credential_id",
    "public_key",
    "sign_count",
    "aaguid",
    "attestation_format",
    "transports",
    "backup_eligible",
    "backed_up",
    "user_verified",
    "verified_at",
)
_PASSKEYS = Passkey.__table__
_USERS = User.__table__
# Built once: SQLAlchemy then reuses their compiled form on every verify.
# The target user (its row locked on PostgreSQL) and the passkey, when it is that user's.
# PostgreSQL re-reads only the locked row after waiting for the lock, so the passkey's columns
# may be those from before a concurrent verify committed: _STORE_VERIFIED checks the state again.
_PENDING = (
    select(
        _USERS.c.id,
        _USERS.c.org_id,
        _USERS.c.sequence,
        _USERS.c.created_at,
        _PASSKEYS.c.id.label("passkey_id"),
        _PASSKEYS.c.state,
        _PASSKEYS.c.challenge,
        _PASSKEYS.c.challenge_expires_at,
        _PASSKEYS.c.rp_id,
    )
    .select_from(
        _USERS.outerjoin(_PASSKEYS, and_(_PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.user_id == _USERS.c.id))
    )
    .where(_USERS.c.id == bindparam("user_id"))
    .with_for_update(of=_USERS)
)
_STORE_VERIFIED = (
    update(_PASSKEYS)
    .where(_PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.state == NOT_READY)
    .values({c: bindparam(c) for c in _VERIFIED_COLUMNS})
)


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


def policy_from(settings: Settings) -> Policy:
    return Policy(
        origins=settings.origins,
        algorithms=settings.algorithms,
        require_user_verification=settings.require_user_verification,
        require_user_presence=settings.require_user_presence,
        allow_cross_origin=settings.allow_cross_origin,
        top_origins=settings.top_origins,
        attestation_roots=settings.attestation_roots,
        attestation_policy=load_attestation_policy(
            mode=settings.attestation_policy,
            metadata_path=settings.attestation_metadata_path or None,
            min_certification=settings.attestation_min_certification or None,
            aaguid_allow=settings.aaguid_allow,
            aaguid_deny=settings.aaguid_deny,
            device_bound_only=settings.device_bound_only,
        ),
        safetynet_allow_basic_integrity=settings.safetynet_allow_basic_integrity,
    )


def check_credential_size(json_length: int) -> None:
    """The credential's JSON must be 55..1 MiB characters."""
    if not MIN_CREDENTIAL_JSON <= json_length <= MAX_CREDENTIAL_JSON:
        raise InvalidArgument(
            "INVALID_FIELD",
            f"public_key_credential must be {MIN_CREDENTIAL_JSON}..{MAX_CREDENTIAL_JSON} characters of JSON, "
            f"got {json_length}",
            field="public_key_credential",
        )


def _passkey_of(session: Session, user_id: str, passkey_id: str, *, lock: bool = False) -> Passkey:
    passkey = session.get(Passkey, passkey_id, with_for_update=lock)
    # A passkey of another user is as absent as one that never existed: nothing leaks.
    if passkey is None or passkey.user_id != user_id:
        raise NotFound("PASSKEY_NOT_FOUND", f"passkey {passkey_id!r} not found", passkey_id=passkey_id)
    return passkey


def _pending_challenge(passkey_id: str, passkey: Any) -> tuple[bytes, str]:
    """The challenge and RP ID of a passkey still waiting for its verification."""
    if passkey.state != NOT_READY or passkey.challenge is None:
        raise FailedPrecondition(
            "PASSKEY_ALREADY_VERIFIED", "passkey registration was already verified", passkey_id=passkey_id
        )
    if passkey.challenge_expires_at is None or passkey.challenge_expires_at <= now():
        raise FailedPrecondition(
            "CHALLENGE_EXPIRED",
            "passkey registration challenge expired, call RegisterPasskey again",
            passkey_id=passkey_id,
        )
    return passkey.challenge, passkey.rp_id


def _spend_code(session: Session, caller: Caller, passkey_id: str, at: datetime) -> None:
    """RegisterPasskey by a code: the code is used up and bound to the passkey it started."""
    code = session.get(RegistrationCode, caller.code_id, with_for_update=True)
    assert code is not None  # authenticated a moment ago; codes are never deleted
    if code.used_at is not None:
        raise Unauthenticated("CODE_USED", "registration code was already used")
    if code.expires_at <= at:
        raise Unauthenticated("CODE_EXPIRED", "registration code expired")
    code.used_at = at
    code.passkey_id = passkey_id


def _code_covers(session: Session, caller: Caller, passkey_id: str) -> None:
    """A code proves the right to verify only the passkey it started."""
    if caller.kind is not Kind.CODE:
        return
    code = session.get(RegistrationCode, caller.code_id)
    if code is None or code.passkey_id != passkey_id:
        raise denied(USER_PASSKEY_WRITE)


class PasskeyCommands:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.policy = policy_from(settings)

    def register(self, *, caller: Caller, user_id: str, attachment: str | None, domain: str) -> Registration:
        validate.text("user_id", user_id)
        if attachment not in ATTACHMENTS:
            raise InvalidArgument("INVALID_FIELD", "authenticator is not a known value", field="authenticator")
        rp_id = choose_rp_id(self.settings.rp_id, domain)
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        with self.db.write() as session:
            user = authorize_user(
                session, caller, user_id, USER_PASSKEY_WRITE, self_allowed=True, code_allowed=True, lock=True
            )
            ready = session.scalars(select(Passkey).where(Passkey.user_id == user_id, Passkey.state == READY)).all()
            at = now()
            passkey = Passkey(
                id=ids.new_id(),
                user_id=user_id,
                state=NOT_READY,
                challenge=challenge,
                rp_id=rp_id,
                challenge_expires_at=at + timedelta(seconds=self.settings.challenge_ttl_s),
                created_at=at,
            )
            session.add(passkey)
            if caller.kind is Kind.CODE:
                _spend_code(session, caller, passkey.id, at)
            details = append_event(session, user, "user.human.passkey.added", at, passkey_id=passkey.id, rp_id=rp_id)
            options = creation_options(
                rp_id=rp_id,
                rp_name=self.settings.rp_name,
                user_handle=user.id.encode(),
                user_name=user.username,
                user_display_name=user.display_name,
                challenge=challenge,
                timeout_ms=self.settings.challenge_ttl_s * 1000,
                algorithms=self.settings.algorithms,
                attachment=attachment,
                attestation=self.settings.attestation,
                exclude=[ExistingCredential(p.credential_id or b"", p.transports or []) for p in ready],
            )
            return Registration(details=details, passkey_id=passkey.id, options=options)

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
        validate.text("passkey_name", name)
        check_credential_size(json_length)
        # One transaction: the user's row is locked (PostgreSQL) or the database's write lock
        # held (SQLite) through the cryptography, a fraction of a millisecond for the formats
        # we see; in exchange nothing is read twice and no second transaction is needed.
        with self.db.write() as session:
            conn = session.connection()
            row = conn.execute(_PENDING, {"user_id": user_id, "passkey_id": passkey_id}).first()
            decide(
                caller,
                user_id,
                None if row is None else row.org_id,
                USER_PASSKEY_WRITE,
                self_allowed=True,
                code_allowed=True,
            )
            assert row is not None  # decide() raised otherwise
            _code_covers(session, caller, passkey_id)
            # A passkey of another user is as absent as one that never existed: nothing leaks.
            if row.passkey_id is None:
                raise NotFound("PASSKEY_NOT_FOUND", f"passkey {passkey_id!r} not found", passkey_id=passkey_id)
            challenge, rp_id = _pending_challenge(passkey_id, row)
            verified = verify_credential(credential=credential, challenge=challenge, rp_id=rp_id, policy=self.policy)
            return self._store_verified(conn, row, passkey_id, verified, name)

    def _store_verified(
        self, conn: Connection, user: UserRow, passkey_id: str, verified: VerifiedCredential, name: str
    ) -> Details:
        # Core statements: the ORM's flush of the same changes cost twice the Python time
        # (bench/profile_verify.py); the ORM objects are not used after this.
        at = now()
        try:
            stored = conn.execute(
                _STORE_VERIFIED,
                {
                    "passkey_id": passkey_id,
                    "state": READY,
                    "challenge": None,
                    "challenge_expires_at": None,
                    "name": name,
                    "credential_id": verified.credential_id,
                    "public_key": verified.public_key,
                    "sign_count": verified.sign_count,
                    "aaguid": verified.aaguid,
                    "attestation_format": verified.attestation_format,
                    "transports": verified.transports,
                    "backup_eligible": verified.backup_eligible,
                    "backed_up": verified.backed_up,
                    "user_verified": verified.user_verified,
                    "verified_at": at,
                },
            )
        except IntegrityError:
            # The credential is already stored (the unique constraint decides, in one statement
            # fewer than asking first; the transaction is rolled back).
            raise AlreadyExists("CREDENTIAL_EXISTS", "this credential is already registered") from None
        if stored.rowcount != 1:  # a concurrent verify (or removal) of this passkey committed first
            if conn.execute(select(_PASSKEYS.c.id).where(_PASSKEYS.c.id == passkey_id)).first() is None:
                raise NotFound("PASSKEY_NOT_FOUND", f"passkey {passkey_id!r} not found", passkey_id=passkey_id)
            raise FailedPrecondition(
                "PASSKEY_ALREADY_VERIFIED", "passkey registration was already verified", passkey_id=passkey_id
            )
        return record_event(
            conn,
            user,
            "user.human.passkey.verified",
            at,
            passkey_id=passkey_id,
            name=name,
            aaguid=verified.aaguid,
            attestation_format=verified.attestation_format,
        )

    def list(self, *, caller: Caller, user_id: str) -> PasskeyList:
        validate.text("user_id", user_id)
        with self.db.read() as session:
            user = authorize_user(session, caller, user_id, USER_READ, self_allowed=True)
            rows = session.scalars(
                select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at, Passkey.id)
            ).all()
            views = [PasskeyView(p.id, p.state, p.name or "", p.created_at) for p in rows]
            return PasskeyList(passkeys=views, sequence=user.sequence, timestamp=details_of(user).change_date)

    def remove(self, *, caller: Caller, user_id: str, passkey_id: str) -> Details:
        validate.text("user_id", user_id)
        validate.text("passkey_id", passkey_id)
        with self.db.write() as session:
            user = authorize_user(session, caller, user_id, USER_PASSKEY_WRITE, self_allowed=True, lock=True)
            passkey = _passkey_of(session, user_id, passkey_id, lock=True)
            session.delete(passkey)
            return append_event(session, user, "user.human.passkey.removed", now(), passkey_id=passkey_id)
