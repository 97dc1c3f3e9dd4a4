"""Cuts the connection of a transaction that runs too long, so that a hung database (one that
accepts bytes but never answers, where neither TCP nor PostgreSQL's own timeouts can fire)
ends in an error within seconds instead of holding a worker thread forever.

Each transaction arms a guard for its thread with a time limit; the connection it checks out is
attached to the guard; a background thread shuts down the socket of a guard past its limit,
which makes the blocked driver call fail (and the pool discard the connection).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

TICK_S = 0.1


@dataclass
class _Guard:
    until: float
    connection: Any = None  # the DB-API connection, once checked out
    fired: bool = False


class Watchdog:
    def __init__(self) -> None:
        self._guards: dict[int, _Guard] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, seconds: float) -> Iterator[None]:
        """The current thread's database work must be done within `seconds`."""
        self._ensure_thread()
        me = threading.get_ident()
        with self._lock:
            outer = self._guards.get(me)
            self._guards[me] = _Guard(until=time.monotonic() + seconds)
        try:
            yield
        finally:
            with self._lock:
                if outer is None:
                    self._guards.pop(me, None)
                else:
                    self._guards[me] = outer

    def guarded(self) -> bool:
        return threading.get_ident() in self._guards

    def attach(self, dbapi_connection: Any) -> None:
        """Called on checkout: this thread's guard watches this connection."""
        with self._lock:
            guard = self._guards.get(threading.get_ident())
            if guard is not None:
                guard.connection = dbapi_connection

    def detach(self, dbapi_connection: Any) -> None:
        """Called on checkin: a connection back in the pool (maybe soon another thread's) is
        never cut for this thread's guard."""
        with self._lock:
            guard = self._guards.get(threading.get_ident())
            if guard is not None and guard.connection is dbapi_connection:
                guard.connection = None

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(TICK_S):
            now = time.monotonic()
            # Under the lock, so that a connection detached on checkin is never cut afterwards
            # (shutting a socket down does not block).
            with self._lock:
                for guard in self._guards.values():
                    if guard.until <= now and not guard.fired and guard.connection is not None:
                        guard.fired = True
                        _cut(guard.connection)

    def stop(self) -> None:
        self._stopped.set()


def _cut(dbapi_connection: Any) -> None:
    """Shut the socket down under the driver: its blocked read returns, the call fails."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = dbapi_connection.fileno()
        sock = socket.socket(fileno=fd)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.detach()  # the driver still owns the descriptor
