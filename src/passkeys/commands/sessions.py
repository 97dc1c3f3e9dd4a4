"""Use cases of sign-in (ZITADEL's SessionService v2): create, set (check factors, issue challenges), get,
list and delete sessions.

A session holds at most one pending WebAuthn challenge, with the RP ID and the user verification
requirement it was issued for; checking an assertion clears it, so a challenge works once, and it
expires after PASSKEYS_CHALLENGE_TTL_S. Each change makes a new session token (shown once, kept as
its SHA-256). Every change is an event of the session's own (commands/session_events.py), written
with the row it changes; the answer's `details` are the last event's. Each use case is one
transaction: every failure leaves the database exactly as it was.

Beyond ZITADEL: discoverable sign-in. A challenge requested with no user checked lists no
credentials; the assertion then names its credential, whose owner becomes the session's user
once the assertion is verified (its userHandle must be that owner's handle).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from passkeys import ids
from passkeys.auth import permissions, tokens
from passkeys.auth.authorize import denied
from passkeys.auth.caller import Caller, Kind
from passkeys.auth.permissions import SESSION_DELETE, SESSION_READ, SESSION_WRITE
from passkeys.commands import session_events as events
from passkeys.commands import validate
from passkeys.details import Details, now
from passkeys.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Reason
from passkeys.limits import MAX_CREDENTIAL_JSON, MIN_CREDENTIAL_JSON
from passkeys.registration.options import RelyingParty, choose_rp_id
from passkeys.registration.signin import (
    USER_VERIFICATION,
    AllowedCredential,
    SignInPolicy,
    VerifiedAssertion,
    credential_id_of,
    request_options,
    verify_assertion,
)
from passkeys.store import sessions as store
from passkeys.store.db import Database
from passkeys.store.events import EventRepository
from passkeys.store.session_events import NewEvent

CHALLENGE_BYTES = 32
TOKEN_BYTES = 32
MAX_LIFETIME = timedelta(days=400)
MAX_METADATA_ENTRIES, MAX_METADATA_VALUE_BYTES = 50, 4096
MAX_USER_AGENT_JSON = 8192
DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT = 100, 1000


@dataclass(frozen=True)
class UserCheck:
    user_id: str | None = None
    login_name: str | None = None


@dataclass(frozen=True)
class Assertion:
    credential: Mapping[str, Any]
    json_length: int  # characters of its compact JSON


@dataclass(frozen=True)
class WebAuthnChallengeRequest:
    domain: str
    user_verification: str | None  # required / preferred / discouraged; None: unspecified


@dataclass(frozen=True)
class SessionInput:
    """What CreateSession and SetSession bring. `unsupported_checks` and `unsupported_challenges`
    name what the request holds that this service does not implement (refused, never ignored)."""

    user: UserCheck | None = None
    assertion: Assertion | None = None
    challenge: WebAuthnChallengeRequest | None = None
    metadata: Mapping[str, bytes] = field(default_factory=dict)
    user_agent: Mapping[str, Any] | None = None
    lifetime: timedelta | None = None
    unsupported_checks: tuple[str, ...] = ()
    unsupported_challenges: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionChange:
    details: Details
    session_id: str
    session_token: str
    request_options: dict[str, Any] | None  # `{"publicKey": ...}` when a challenge was requested
    sign_count_regressed: bool = False  # a sign-in accepted although its counter did not grow


@dataclass(frozen=True)
class UserFactor:
    verified_at: datetime
    id: str
    login_name: str
    display_name: str
    organization_id: str


@dataclass(frozen=True)
class WebAuthnFactor:
    verified_at: datetime
    user_verified: bool


@dataclass(frozen=True)
class SessionView:
    id: str
    created_at: datetime
    changed_at: datetime
    sequence: int
    user: UserFactor | None
    web_auth_n: WebAuthnFactor | None
    metadata: dict[str, bytes]
    user_agent: dict[str, Any]
    expires_at: datetime | None


@dataclass(frozen=True)
class SessionQuery:
    """ListSessions' filter: the queries to AND, and the page."""

    ids: tuple[tuple[str, ...], ...] = ()
    user_ids: tuple[str, ...] = ()
    creator_ids: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    offset: int = 0
    limit: int = 0
    ascending: bool = False


@dataclass(frozen=True)
class SessionList:
    total: int
    sessions: list[SessionView]
    timestamp: datetime


def _require(caller: Caller, permission: str) -> None:
    """Sessions belong to the instance: only instance-wide grants count (IAM_OWNER, IAM_LOGIN_CLIENT)."""
    if caller.kind is Kind.CODE or not permissions.allowed_everywhere(caller, permission):
        raise PermissionDenied(
            Reason.PERMISSION_DENIED, f"the caller lacks {permission} on sessions", permission=permission
        )


def _refuse_unsupported(data: SessionInput) -> None:
    for name in data.unsupported_checks:
        raise InvalidArgument(
            Reason.CHECK_NOT_SUPPORTED, f"checks.{name} is not supported by this service; only user and web_auth_n are",
            field=f"checks.{name}",
        )  # fmt: skip
    for name in data.unsupported_challenges:
        raise InvalidArgument(
            Reason.CHALLENGE_NOT_SUPPORTED, f"challenges.{name} is not supported by this service; only web_auth_n is",
            field=f"challenges.{name}",
        )  # fmt: skip


def _validate(data: SessionInput) -> None:
    _refuse_unsupported(data)
    if data.user is not None:
        if (data.user.user_id is None) == (data.user.login_name is None):
            raise InvalidArgument(Reason.INVALID_FIELD, "checks.user needs user_id or login_name", field="checks.user")
        if data.user.user_id is not None:
            validate.text("checks.user.user_id", data.user.user_id)
        else:
            validate.text("checks.user.login_name", data.user.login_name or "")
    if data.assertion is not None and not MIN_CREDENTIAL_JSON <= data.assertion.json_length <= MAX_CREDENTIAL_JSON:
        raise InvalidArgument(
            Reason.INVALID_FIELD,
            f"credential_assertion_data must be {MIN_CREDENTIAL_JSON}..{MAX_CREDENTIAL_JSON} characters of JSON, "
            f"got {data.assertion.json_length}",
            field="checks.web_auth_n.credential_assertion_data",
        )
    if data.challenge is not None and data.challenge.user_verification not in (None, *USER_VERIFICATION):
        raise InvalidArgument(
            Reason.INVALID_FIELD, "user_verification_requirement is not a known value",
            field="challenges.web_auth_n.user_verification_requirement",
        )  # fmt: skip
    if data.lifetime is not None and not timedelta(0) < data.lifetime <= MAX_LIFETIME:
        raise InvalidArgument(
            Reason.INVALID_FIELD, f"lifetime must be more than 0 and at most {MAX_LIFETIME.days} days", field="lifetime"
        )
    if len(data.metadata) > MAX_METADATA_ENTRIES:
        raise InvalidArgument(
            Reason.INVALID_FIELD, f"at most {MAX_METADATA_ENTRIES} metadata entries", field="metadata"
        )
    for key, value in data.metadata.items():
        validate.text("metadata key", key)
        if len(value) > MAX_METADATA_VALUE_BYTES:
            raise InvalidArgument(
                Reason.INVALID_FIELD, f"metadata values are at most {MAX_METADATA_VALUE_BYTES} bytes", field="metadata"
            )
    if data.user_agent is not None and len(json.dumps(data.user_agent)) > MAX_USER_AGENT_JSON:
        raise InvalidArgument(
            Reason.INVALID_FIELD, f"user_agent is at most {MAX_USER_AGENT_JSON} characters of JSON", field="user_agent"
        )


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, tokens.digest(token)


def _find_user(repo: store.SessionRepository, check: UserCheck) -> store.UserRef:
    if check.user_id is not None:
        user = repo.user_by_id(check.user_id)
        if user is None:
            raise NotFound(Reason.USER_NOT_FOUND, f"user {check.user_id!r} not found", user_id=check.user_id)
        return user
    # In the form usernames are stored in (PRECIS UsernameCaseMapped): `Ada@Example.com` finds ada.
    login_name = validate.username("checks.user.login_name", check.login_name or "")
    return _by_login_name(repo, login_name, check.login_name or "")


def _by_login_name(repo: store.SessionRepository, login_name: str, asked: str) -> store.UserRef:
    """`username@organization-domain` names one user (usernames are unique per organization,
    domains per instance and hold no '@'); it is tried first. A bare username is taken when one
    user holds it, and refused, naming the full form, when users of several organizations do."""
    username, at, domain = login_name.rpartition("@")
    user = repo.user_by_full_login_name(username, domain) if at else None
    if user is not None:
        return user
    found = repo.users_by_username(login_name)
    if len(found) > 1:
        raise InvalidArgument(
            Reason.INVALID_FIELD,
            f"the login name {asked!r} is a username in several organizations: use username@organization-domain",
            field="checks.user.login_name",
        )
    if not found:
        raise NotFound(Reason.USER_NOT_FOUND, f"no user has the login name {asked!r}")
    return found[0]


def _metadata_json(current: Mapping[str, str], changes: Mapping[str, bytes]) -> dict[str, str]:
    """As ZITADEL: a key with an empty value is removed."""
    merged = dict(current)
    for key, value in changes.items():
        if value:
            merged[key] = base64.b64encode(value).decode()
        else:
            merged.pop(key, None)
    return merged


def _owner(user: store.UserRef | None) -> str:
    # A session is the instance's; its user's organization is the owner once a user is known.
    return user.org_id if user else ""


def _view(row: Any) -> SessionView:
    user = None
    if row.user_id is not None and row.user_verified_at is not None:
        user = UserFactor(
            verified_at=row.user_verified_at,
            id=row.user_id,
            login_name=row.user_login_name,
            display_name=row.user_display_name,
            organization_id=row.user_org_id,
        )
    web_auth_n = None
    if row.webauthn_verified_at is not None:
        web_auth_n = WebAuthnFactor(
            verified_at=row.webauthn_verified_at, user_verified=bool(row.webauthn_user_verified)
        )
    return SessionView(
        id=row.id,
        created_at=row.created_at,
        changed_at=row.changed_at,
        sequence=row.sequence,
        user=user,
        web_auth_n=web_auth_n,
        metadata={k: base64.b64decode(v) for k, v in (row.metadata or {}).items()},
        user_agent=dict(row.user_agent or {}),
        expires_at=row.expires_at,
    )


class SessionCommands:
    def __init__(self, db: Database, rp: RelyingParty, policy: SignInPolicy) -> None:
        self.db = db
        self.rp = rp
        self.policy = policy

    def create(self, *, caller: Caller, data: SessionInput) -> SessionChange:
        _require(caller, SESSION_WRITE)
        _validate(data)
        if data.assertion is not None:
            raise FailedPrecondition(
                Reason.CHALLENGE_MISSING, "a new session has no WebAuthn challenge yet: request challenges.web_auth_n "
                "in CreateSession, then send checks.web_auth_n in SetSession",
            )  # fmt: skip
        at = now()
        token, token_hash = _new_token()
        with self.db.write() as uow:
            repo = uow.signin
            user = _find_user(repo, data.user) if data.user is not None else None
            changes = [events.added(data.user_agent or {})]
            if user is not None:
                changes.append(events.user_checked(user.id))
            if data.metadata:
                changes.append(events.metadata_set(data.metadata))
            row: dict[str, Any] = {
                "id": ids.new_id(),
                "token_hash": token_hash,
                "creator_id": caller.user_id,
                "user_id": user.id if user else None,
                "user_verified_at": at if user else None,
                "webauthn_verified_at": None,
                "webauthn_user_verified": None,
                "passkey_id": None,
                "challenge": None,
                "challenge_rp_id": None,
                "challenge_user_verification": None,
                "challenge_expires_at": None,
                "metadata": _metadata_json({}, data.metadata),
                "user_agent": dict(data.user_agent or {}),
                "expires_at": at + data.lifetime if data.lifetime else None,
                "created_at": at,
                "changed_at": at,
            }
            if data.lifetime:
                changes.append(events.lifetime_set(data.lifetime, row["expires_at"]))
            options = self._challenge(repo, row, user, data.challenge, at, changes)
            changes.append(events.token_set())
            row["sequence"] = len(changes)
            repo.insert_session(row)
            details = uow.session_events.append(
                row["id"], changes, after=0, at=at, resource_owner=_owner(user), editor_id=caller.user_id,
                created_at=at,
            )  # fmt: skip
            return SessionChange(details, row["id"], token, options)

    def _challenge(
        self,
        repo: store.SessionRepository,
        row: dict[str, Any],
        user: store.UserRef | None,
        request: WebAuthnChallengeRequest | None,
        at: datetime,
        changes: list[NewEvent],
    ) -> dict[str, Any] | None:
        """A new pending challenge into `row` and its event into `changes`, and its request options
        (None: none requested)."""
        if request is None:
            return None
        rp_id = choose_rp_id(self.rp.id, request.domain)
        user_verification = request.user_verification or "required"
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        allow = [] if user is None else [AllowedCredential(c, t) for c, t in repo.ready_credentials(user.id, rp_id)]
        expires_at = at + timedelta(seconds=self.rp.challenge_ttl_s)
        row.update(
            challenge=challenge,
            challenge_rp_id=rp_id,
            challenge_user_verification=user_verification,
            challenge_expires_at=expires_at,
        )
        changes.append(events.webauthn_challenged(rp_id, user_verification, expires_at, discoverable=user is None))
        return request_options(
            rp_id=rp_id,
            challenge=challenge,
            timeout_ms=self.rp.challenge_ttl_s * 1000,
            user_verification=user_verification,
            allow=allow,
        )

    def set(self, *, caller: Caller, session_id: str, data: SessionInput) -> SessionChange:
        _require(caller, SESSION_WRITE)
        validate.text("session_id", session_id)
        _validate(data)
        at = now()
        token, token_hash = _new_token()
        with self.db.write() as uow:
            repo = uow.signin
            current = repo.get_session(session_id, lock=True)
            if current is None:
                raise NotFound(Reason.SESSION_NOT_FOUND, f"session {session_id!r} not found", session_id=session_id)
            if current.expires_at is not None and current.expires_at <= at:
                raise FailedPrecondition(Reason.SESSION_EXPIRED, "the session expired", session_id=session_id)
            user = repo.user_by_id(current.user_id) if current.user_id else None
            row: dict[str, Any] = {}
            changes: list[NewEvent] = []
            if data.user is not None:
                checked = _find_user(repo, data.user)
                if user is not None and checked.id != user.id:
                    raise FailedPrecondition(
                        Reason.SESSION_USER_CHANGED, "the session's user cannot be changed", session_id=session_id
                    )
                user = checked
                row.update(user_id=user.id, user_verified_at=at)
                changes.append(events.user_checked(user.id))
            regressed = False
            if data.assertion is not None:
                user, regressed = self._check_assertion(repo, current, user, data.assertion, row, at, changes)
            if data.metadata:
                row["metadata"] = _metadata_json(current.metadata or {}, data.metadata)
                changes.append(events.metadata_set(data.metadata))
            if data.lifetime is not None:
                row["expires_at"] = at + data.lifetime
                changes.append(events.lifetime_set(data.lifetime, row["expires_at"]))
            options = self._challenge(repo, row, user, data.challenge, at, changes)
            changes.append(events.token_set())
            row.update(token_hash=token_hash, sequence=current.sequence + len(changes), changed_at=at)
            if not repo.update_session(session_id, current.sequence, row):
                raise FailedPrecondition(
                    Reason.SESSION_CHANGED, "the session changed meanwhile, retry", session_id=session_id
                )
            details = uow.session_events.append(
                session_id, changes, after=current.sequence, at=at, resource_owner=_owner(user),
                editor_id=caller.user_id, created_at=current.created_at,
            )  # fmt: skip
            return SessionChange(details, session_id, token, options, sign_count_regressed=regressed)

    def _check_assertion(
        self,
        repo: store.SessionRepository,
        current: Any,
        user: store.UserRef | None,
        assertion: Assertion,
        row: dict[str, Any],
        at: datetime,
        changes: list[NewEvent],
    ) -> tuple[store.UserRef, bool]:
        """checks.web_auth_n against the session's own pending challenge: the factors, the spent
        challenge and the passkey's new counter into `row` and the passkey, their events into
        `changes`; the signed-in user out, and whether its counter did not grow (accepted under
        PASSKEYS_SIGN_COUNT_POLICY=flag)."""
        if current.challenge is None:
            raise FailedPrecondition(
                Reason.CHALLENGE_MISSING, "the session has no pending WebAuthn challenge (used, or never requested)",
                session_id=current.id,
            )  # fmt: skip
        if current.challenge_expires_at is None or current.challenge_expires_at <= at:
            raise FailedPrecondition(
                Reason.CHALLENGE_EXPIRED, "the session's WebAuthn challenge expired, request a new one",
                session_id=current.id,
            )  # fmt: skip
        rp_id = current.challenge_rp_id
        credential_id = credential_id_of(assertion.credential)
        found = repo.passkey_by_credential(credential_id)
        # The owner's row is locked before the passkey's (RemovePasskey's order), then the passkey
        # is read again under both locks.
        owner = repo.user_by_id(found.user_id, lock=True) if found is not None else None
        passkey = repo.passkey_by_credential(credential_id, lock=True) if owner is not None else None
        # Another user's passkey, one not READY (or removed), or one of another RP: all as absent.
        if (
            passkey is None
            or owner is None
            or passkey.user_id != owner.id
            or passkey.state != store.READY
            or passkey.rp_id != rp_id
            or (user is not None and passkey.user_id != user.id)
        ):
            whose = "the session's user" if user is not None else "any user"
            raise NotFound(
                Reason.PASSKEY_NOT_FOUND, f"no READY passkey of {whose} for RP ID {rp_id!r} has this credential id"
            )
        verified: VerifiedAssertion = verify_assertion(
            credential=assertion.credential,
            challenge=current.challenge,
            rp_id=rp_id,
            origins=self.policy.origins,
            require_user_verification=current.challenge_user_verification == "required",
            public_key=passkey.public_key,
            stored_sign_count=passkey.sign_count or 0,
            stored_backup_eligible=passkey.backup_eligible,
            expected_user_handle=owner.id.encode(),
            # §7.2 step 6: without a user identified first, the handle must name the owner.
            require_user_handle=current.user_id is None,
            allow_cross_origin=self.policy.allow_cross_origin,
            refuse_sign_count_regression=self.policy.refuse_sign_count_regression,
        )
        if not repo.store_passkey_use(
            passkey.id,
            old_sign_count=passkey.sign_count,
            sign_count=verified.sign_count,
            backed_up=verified.backed_up,
            at=at,
        ):
            raise FailedPrecondition(Reason.PASSKEY_CHANGED, "the passkey changed meanwhile, sign in again")
        # The passkey's use is a change of its user (as ZITADEL's passwordless check events).
        EventRepository(repo.conn).append(
            owner,
            "user.human.passkey.check.succeeded",
            at,
            passkey_id=passkey.id,
            session_id=current.id,
            sign_count=verified.sign_count,
            user_verified=verified.user_verified,
            backed_up=verified.backed_up,
            **({"sign_count_regressed": True} if verified.sign_count_regressed else {}),
        )
        row.update(
            challenge=None,
            challenge_rp_id=None,
            challenge_user_verification=None,
            challenge_expires_at=None,
            webauthn_verified_at=at,
            webauthn_user_verified=verified.user_verified,
            passkey_id=passkey.id,
        )
        if current.user_id is None and "user_id" not in row:
            # Discoverable: the passkey's owner is the user the session now checked.
            row.update(user_id=owner.id, user_verified_at=at)
            changes.append(events.user_checked(owner.id))
        changes.append(events.webauthn_checked(passkey.id, verified.user_verified, verified.sign_count_regressed))
        return owner, verified.sign_count_regressed

    def _readable(
        self,
        caller: Caller,
        repo: store.SessionRepository,
        session_id: str,
        token: str | None,
        permission: str,
        *,
        lock: bool = False,
    ) -> Any:
        """The session, when the caller holds `permission` or the session's current token.
        Without either, PERMISSION_DENIED before anything is read (nothing leaks)."""
        validate.text("session_id", session_id)
        has_permission = caller.kind is not Kind.CODE and permissions.allowed_everywhere(caller, permission)
        if not has_permission and token is None:
            raise denied(permission)
        row = repo.get_session(session_id, lock=lock)
        if row is None:
            raise NotFound(Reason.SESSION_NOT_FOUND, f"session {session_id!r} not found", session_id=session_id)
        if not has_permission and not tokens.matches(token or "", row.token_hash):
            raise PermissionDenied(
                Reason.SESSION_TOKEN_INVALID, "session_token is not this session's current token", permission=permission
            )
        return row

    def get(self, *, caller: Caller, session_id: str, session_token: str | None) -> SessionView:
        with self.db.read() as uow:
            return _view(self._readable(caller, uow.signin, session_id, session_token, SESSION_READ))

    def delete(self, *, caller: Caller, session_id: str, session_token: str | None) -> Details:
        """The row goes; its history stays, ending with `session.terminated`."""
        with self.db.write() as uow:
            repo = uow.signin
            row = self._readable(caller, repo, session_id, session_token, SESSION_DELETE, lock=True)
            repo.delete_session(session_id)
            return uow.session_events.append(
                session_id, [events.terminated()], after=row.sequence, at=now(), resource_owner=row.user_org_id or "",
                editor_id=caller.user_id, created_at=row.created_at,
            )  # fmt: skip

    def list(self, *, caller: Caller, query: SessionQuery) -> SessionList:
        _require(caller, SESSION_READ)
        for name in query.unsupported:
            raise InvalidArgument(
                Reason.QUERY_NOT_SUPPORTED, f"the {name} query is not supported; ids, user id and creator are",
                field=f"queries.{name}",
            )  # fmt: skip
        for ids_query in query.ids:
            for session_id in ids_query:
                validate.text("ids_query.ids", session_id)
        for value in query.user_ids:
            validate.text("user_id_query.id", value)
        if query.offset < 0 or not 0 <= query.limit <= MAX_LIST_LIMIT:
            raise InvalidArgument(Reason.INVALID_FIELD, f"query.limit must be at most {MAX_LIST_LIMIT}", field="query")
        # A creator query without an id means the caller's own sessions (as ZITADEL).
        creator_ids = tuple(c or caller.user_id for c in query.creator_ids)
        where = store.SessionFilter(ids=query.ids, user_ids=query.user_ids, creator_ids=creator_ids)
        with self.db.read() as uow:
            total, rows = uow.signin.list_sessions(
                where,
                offset=query.offset,
                limit=query.limit or DEFAULT_LIST_LIMIT,
                ascending=query.ascending,
            )
            return SessionList(total=total, sessions=[_view(r) for r in rows], timestamp=now())
