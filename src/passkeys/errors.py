"""Domain errors: raised once where a rule fails, mapped to gRPC status in api/errors.py only.

Each carries a stable `reason` (UPPER_SNAKE, like google.rpc.ErrorInfo.reason) and metadata
naming what failed, so clients can branch on it without parsing the message.
"""

from __future__ import annotations


class Reason:
    """Every reason the service raises: a public contract (web/src/messages.js words each one;
    tests/unit/test_reasons.py checks both ways)."""

    INVALID_FIELD = "INVALID_FIELD"
    UNSUPPORTED_FIELD = "UNSUPPORTED_FIELD"  # an upstream field this service does not implement
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    DOMAIN_NOT_ALLOWED = "DOMAIN_NOT_ALLOWED"
    CREDENTIAL_REJECTED = "CREDENTIAL_REJECTED"
    CREDENTIAL_EXISTS = "CREDENTIAL_EXISTS"
    CHALLENGE_EXPIRED = "CHALLENGE_EXPIRED"
    PASSKEY_ALREADY_VERIFIED = "PASSKEY_ALREADY_VERIFIED"
    PASSKEY_NOT_FOUND = "PASSKEY_NOT_FOUND"
    PASSKEY_NOT_READY = "PASSKEY_NOT_READY"  # renamed before its registration was verified
    USER_NOT_FOUND = "USER_NOT_FOUND"
    USER_EXISTS = "USER_EXISTS"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    ORGANIZATION_NOT_FOUND = "ORGANIZATION_NOT_FOUND"
    ORGANIZATION_EXISTS = "ORGANIZATION_EXISTS"
    MACHINE_USER_EXISTS = "MACHINE_USER_EXISTS"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    TOKEN_MISSING = "TOKEN_MISSING"
    TOKEN_MALFORMED = "TOKEN_MALFORMED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    CODE_INVALID = "CODE_INVALID"
    CODE_USED = "CODE_USED"
    CODE_EXPIRED = "CODE_EXPIRED"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    JWKS_UNAVAILABLE = "JWKS_UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    SERVER_FAULT = "SERVER_FAULT"
    SERVER_RESOURCES_EXHAUSTED = "SERVER_RESOURCES_EXHAUSTED"
    # Sign-in (zitadel.session.v2).
    ASSERTION_REJECTED = "ASSERTION_REJECTED"
    SIGN_COUNT_REGRESSED = "SIGN_COUNT_REGRESSED"
    CHALLENGE_MISSING = "CHALLENGE_MISSING"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    SESSION_USER_CHANGED = "SESSION_USER_CHANGED"
    SESSION_CHANGED = "SESSION_CHANGED"
    PASSKEY_CHANGED = "PASSKEY_CHANGED"
    SESSION_TOKEN_INVALID = "SESSION_TOKEN_INVALID"
    CHECK_NOT_SUPPORTED = "CHECK_NOT_SUPPORTED"
    CHALLENGE_NOT_SUPPORTED = "CHALLENGE_NOT_SUPPORTED"
    QUERY_NOT_SUPPORTED = "QUERY_NOT_SUPPORTED"
    INTERNAL = "INTERNAL"  # an exception no rule raised (api/errors.internal_status)

    @classmethod
    def all(cls) -> frozenset[str]:
        return frozenset(v for k, v in vars(cls).items() if k.isupper())


class DomainError(Exception):
    def __init__(self, reason: str, message: str, **metadata: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = metadata


class InvalidArgument(DomainError):
    """The request itself is wrong: fixing the request can make it pass."""


class NotFound(DomainError):
    """The user or passkey does not exist (or is not visible to the caller)."""


class AlreadyExists(DomainError):
    """Creating something that exists: a user id, a username, a registered credential."""


class FailedPrecondition(DomainError):
    """The request is valid but the resource is not in a state that allows it."""


class PermissionDenied(DomainError):
    """The caller is known but may not act on this resource."""


class Unauthenticated(DomainError):
    """The caller could not be identified."""


class Unavailable(DomainError):
    """A dependency (the database) is down or busy; retrying later may succeed."""


class DeadlineExceeded(DomainError):
    """The call's deadline passed before the change could be committed: nothing was changed."""


# Reasons of the server's own failures (ServerFault and its kin).
SERVER_FAULT = Reason.SERVER_FAULT
SERVER_RESOURCES_EXHAUSTED = Reason.SERVER_RESOURCES_EXHAUSTED


class ServerFault(DomainError):
    """The server failed, not the request (an OS error inside a library, a bug): INTERNAL, logged
    with its traceback where it is raised, never counted as a verification failure."""


class ServerOverloaded(ServerFault):
    """The server ran out of something (file descriptors, memory): UNAVAILABLE, a retry later may succeed."""


def invalid_field(field: str, message: str) -> InvalidArgument:
    """A request field that breaks its rule; `field` is its path in the request."""
    return InvalidArgument(Reason.INVALID_FIELD, message, field=field)


def passkey_not_found(passkey_id: str) -> NotFound:
    return NotFound(Reason.PASSKEY_NOT_FOUND, f"passkey {passkey_id!r} not found", passkey_id=passkey_id)


def passkey_already_verified(passkey_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        Reason.PASSKEY_ALREADY_VERIFIED, "passkey registration was already verified", passkey_id=passkey_id
    )


def user_not_found(user_id: str) -> NotFound:
    return NotFound(Reason.USER_NOT_FOUND, f"user {user_id!r} not found", user_id=user_id)


def organization_not_found(org_id: str | None = None) -> NotFound:
    message = "organization not found" if org_id is None else f"organization {org_id!r} not found"
    return NotFound(Reason.ORGANIZATION_NOT_FOUND, message)


def deadline_exceeded() -> DeadlineExceeded:
    return DeadlineExceeded(Reason.DEADLINE_EXCEEDED, "the call's deadline passed; nothing was changed")
