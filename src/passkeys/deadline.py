"""The current call's deadline, so that the store can bound lock waits by it and refuse to
commit once it has passed: a client told DEADLINE_EXCEEDED must not find its change made.

Set per call by the gRPC interceptor (a contextvar, so each worker thread has its own); code
outside a call (the CLI, migrations) has no deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from passkeys.errors import deadline_exceeded

# A commit is refused when less than this is left: the commit itself takes time, and the
# client's clock runs ahead of ours by the request's transit.
COMMIT_MARGIN_S = 0.05

_deadline: ContextVar[float | None] = ContextVar("deadline", default=None)


@contextmanager
def bounded(remaining_s: float | None) -> Iterator[None]:
    """Within this block, the call must finish in `remaining_s` seconds (None: no deadline)."""
    token = _deadline.set(None if remaining_s is None else time.monotonic() + remaining_s)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left (may be negative), or None without a deadline."""
    at = _deadline.get()
    return None if at is None else at - time.monotonic()


def expired(margin_s: float = 0.0) -> bool:
    left = remaining()
    return left is not None and left <= margin_s


def check(margin_s: float = 0.0) -> None:
    if expired(margin_s):
        raise deadline_exceeded()
