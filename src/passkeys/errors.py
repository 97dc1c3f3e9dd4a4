"""Domain errors: raised once where a rule fails, mapped to gRPC status in api/errors.py only.

Each carries a stable `reason` (UPPER_SNAKE, like google.rpc.ErrorInfo.reason) and metadata
naming what failed, so clients can branch on it without parsing the message.
"""

from __future__ import annotations


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
SERVER_FAULT = "SERVER_FAULT"
SERVER_RESOURCES_EXHAUSTED = "SERVER_RESOURCES_EXHAUSTED"


class ServerFault(DomainError):
    """The server failed, not the request (an OS error inside a library, a bug): INTERNAL, logged
    with its traceback where it is raised, never counted as a verification failure."""


class ServerOverloaded(ServerFault):
    """The server ran out of something (file descriptors, memory): UNAVAILABLE, a retry later may succeed."""
