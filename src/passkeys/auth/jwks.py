"""The issuer's keys from PASSKEYS_JWKS_URL, fetched so that the issuer cannot stall the service.

A call never fetches on its own thread: one background fetch at a time (a short timeout on
the whole fetch, a size limit), started when the keys are older than REFRESH_S or when a token
names a kid we do not know. A kid not in the set waits for that fetch at most WAIT_S, and only
WAITERS calls wait at once (the others are answered at once). Random kids cannot make us
refetch: after a fetch, unknown kids start another one only MIN_REFETCH_S later, after a failed
one only COOLDOWN_S later. The last good set is kept while fetches fail, and holds at most
MAX_KEYS keys.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request

import jwt

from passkeys.errors import Reason, Unavailable

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 2.0
MAX_JWKS_BYTES = 256 * 1024
MAX_KEYS = 64
REFRESH_S = 300.0
MIN_REFETCH_S = 30.0
COOLDOWN_S = 10.0
WAIT_S = 1.0
WAITERS = 2


def _unavailable() -> Unavailable:
    return Unavailable(Reason.JWKS_UNAVAILABLE, "the issuer's keys cannot be fetched, retry later")


class JwksFetcher:
    def __init__(self, url: str, *, fetch_timeout_s: float = FETCH_TIMEOUT_S, cooldown_s: float = COOLDOWN_S) -> None:
        self.url = url
        self.fetch_timeout_s = fetch_timeout_s
        self.cooldown_s = cooldown_s
        self._keys: dict[str | None, jwt.PyJWK] | None = None  # kid -> key; None: never fetched
        self._fetched_at = float("-inf")  # the last good fetch (monotonic)
        self._tried_at = float("-inf")  # the last fetch started
        self._failed = False  # whether the last fetch failed
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._in_flight = False
        self._waiters = threading.BoundedSemaphore(WAITERS)
        self.fetches = 0  # fetches started (for tests and logs)

    def keys(self, kid: str | None) -> list[jwt.PyJWK]:
        """The keys a token with `kid` may be signed by (empty: an unknown kid, after a refetch
        if one was due); Unavailable when no set could be fetched yet."""
        with self._lock:
            now = time.monotonic()
            if self._keys is not None and now - self._fetched_at > REFRESH_S:
                self._start_fetch(now)  # in the background: the current keys are used meanwhile
            found = self._find(kid)
            if found:
                return found
            if not self._start_fetch(now) and not self._in_flight:
                return self._answer_unknown()
        # A fetch is in flight: wait for it, briefly, if few others wait already.
        if not self._waiters.acquire(blocking=False):
            return self._answer_unknown()
        try:
            with self._lock:
                self._done.wait_for(lambda: not self._in_flight, timeout=WAIT_S)
                found = self._find(kid)
                return found or self._answer_unknown()
        finally:
            self._waiters.release()

    def _find(self, kid: str | None) -> list[jwt.PyJWK]:
        if self._keys is None:
            return []
        if kid is None:
            return list(self._keys.values())
        key = self._keys.get(kid)
        return [key] if key is not None else []

    def _answer_unknown(self) -> list[jwt.PyJWK]:
        if self._keys is None:
            raise _unavailable()
        return []

    def _start_fetch(self, now: float) -> bool:
        """Starts a fetch unless one is in flight or the last one was too recent (lock held)."""
        if self._in_flight or now - self._tried_at < (self.cooldown_s if self._failed else MIN_REFETCH_S):
            return False
        self._in_flight = True
        self._tried_at = now
        self.fetches += 1
        threading.Thread(target=self._fetch, name="jwks-fetch", daemon=True).start()
        return True

    def _fetch(self) -> None:
        keys: dict[str | None, jwt.PyJWK] | None = None
        try:
            keys = self._download()
        except Exception as exc:  # noqa: BLE001 - any failure of the issuer is a failed fetch
            log.warning("jwks fetch failed", extra={"url": self.url, "error": f"{type(exc).__name__}: {exc}"[:300]})
        with self._lock:
            self._in_flight = False
            self._failed = keys is None
            if keys is not None:
                self._keys = keys
                self._fetched_at = time.monotonic()
            self._done.notify_all()

    def _download(self) -> dict[str | None, jwt.PyJWK]:
        deadline = time.monotonic() + self.fetch_timeout_s
        request = urllib.request.Request(self.url, headers={"accept": "application/json"})
        body = b""
        with urllib.request.urlopen(request, timeout=self.fetch_timeout_s) as response:
            while chunk := response.read(16384):
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"JWKS over {MAX_JWKS_BYTES} bytes")
                if time.monotonic() > deadline:  # a trickling issuer
                    raise TimeoutError("JWKS fetch too slow")
        found = jwt.PyJWKSet.from_dict(json.loads(body)).keys
        return {key.key_id: key for key in found[:MAX_KEYS]}
