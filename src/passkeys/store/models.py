"""The schema: an append-only event log per user (the truth) and read tables kept in step
with it in the same transaction. Alembic migrations in store/migrations create it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive timestamps)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, process_bind_param and SQLite's DATETIME string in one step: the same
        text ("YYYY-MM-DD HH:MM:SS.ffffff", as SQLAlchemy's storage format) from the C
        isoformat instead of a %-format of a dict, half the time (issue 17: every change binds
        two or three). Elsewhere SQLAlchemy's own."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Unique within the organization (an org's manager learns nothing of others'); login names
    # are `username@organization-domain` (commands/sessions.py).
    username: Mapped[str] = mapped_column(String(200), index=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    # Sequence and time of the user's last event, and time of its first: the `details`.
    sequence: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("org_id", "username", name="uq_users_org_id_username"),)


class Event(Base):
    """One change of one user; (user_id, sequence) is gap-free and unique per user."""

    __tablename__ = "events"

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    resource_owner: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class Passkey(Base):
    """A passkey: NOT_READY with a pending challenge, then READY with the verified credential."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[int] = mapped_column(Integer)  # AuthFactorState numbers: 1 NOT_READY, 2 READY
    # Pending registration: cleared once verified, so a challenge works at most once.
    challenge: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    rp_id: Mapped[str] = mapped_column(String(253))
    challenge_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set on verification.
    name: Mapped[str | None] = mapped_column(String(200))
    credential_id: Mapped[bytes | None] = mapped_column(LargeBinary(1023))
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sign_count: Mapped[int | None] = mapped_column(BigInteger)
    aaguid: Mapped[str | None] = mapped_column(String(36))
    attestation_format: Mapped[str | None] = mapped_column(String(32))
    # The attestation statement was verified against a trust root (NULL: verified before 0006).
    attestation_trusted: Mapped[bool | None]
    transports: Mapped[list[str] | None] = mapped_column(JSON)
    backup_eligible: Mapped[bool | None]
    backed_up: Mapped[bool | None]
    user_verified: Mapped[bool | None]
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set on every sign-in (store/sessions.py).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("credential_id", name="uq_passkeys_credential_id"),)


class MachineUser(Base):
    """A service account: authenticates with personal access tokens, holds role grants."""

    __tablename__ = "machine_users"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoleGrant(Base):
    """A role of a user (machine or human) on one organization, or instance-wide (org_id NULL)."""

    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccessToken(Base):
    """A personal access token of a machine user: only its SHA-256 is kept."""

    __tablename__ = "access_tokens"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("machine_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RegistrationCode(Base):
    """A passkey registration code: hashed, expiring, single use, locked after wrong tries.

    `passkey_id` is set when RegisterPasskey spends the code; the same code then proves the
    right to verify exactly that passkey."""

    __tablename__ = "registration_codes"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failed_attempts: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    passkey_id: Mapped[str | None] = mapped_column(String(200))


class OutboxMessage(Base):
    """A message for a mailer to send (this service sends no mail itself)."""

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInSession(Base):
    """A zitadel.session.v2 session: its factors, at most one pending WebAuthn challenge, and its
    token, kept only as a SHA-256. `sequence` counts its changes (the `details`)."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    creator_id: Mapped[str] = mapped_column(String(200))  # the caller that created it
    # The user factor; NULL until a user is checked (or found by a discoverable passkey).
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    user_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The WebAuthn factor, and the passkey that proved it.
    webauthn_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webauthn_user_verified: Mapped[bool | None]
    passkey_id: Mapped[str | None] = mapped_column(String(200))
    # The pending challenge: cleared when an assertion is checked against it, so it works once.
    challenge: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    challenge_rp_id: Mapped[str | None] = mapped_column(String(253))
    challenge_user_verification: Mapped[str | None] = mapped_column(String(16))  # required/preferred/discouraged
    challenge_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON)  # key -> base64 of the bytes
    user_agent: Mapped[dict[str, Any]] = mapped_column(JSON)  # UserAgent as proto3 JSON
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # from `lifetime`
    sequence: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SessionEvent(Base):
    """One change of one session (zitadel.session.v2): (session_id, sequence) is gap-free and unique
    per session. No foreign key: a deleted session's history stays (its last event is
    `session.terminated`)."""

    __tablename__ = "session_events"

    session_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    resource_owner: Mapped[str] = mapped_column(String(200))  # the user's organization, "" before a user
    editor_id: Mapped[str] = mapped_column(String(200))  # the caller that made the change
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
