"""Resource ids: decimal strings of 19 digits, the size of ZITADEL's int64 ids, that never repeat
within a process and that cannot be enumerated.

Each process numbers its ids 0, 1, 2, ... and encrypts the number with a permutation of
[0, SPAN) keyed by 128 random bits of its own: a four-round Feistel network over 64 bits with
keyed BLAKE2b as the round function, walked in cycles until the value falls inside the range
(a permutation of the whole 64-bit space restricted by cycle walking stays a permutation of
the range). A permutation never maps two numbers to one id, so a process cannot repeat itself
however many ids it makes in a millisecond; without the key, its ids look like uniform random
numbers, so that one id tells nothing about the next. Other processes (the worker processes,
other hosts, the next start) have keys of their own: their ids meet ours only as two random
63-bit numbers would (100,000 from each of two processes: about 1e-9 of a single collision).

Not time-ordered: within 63 bits, a millisecond clock leaves 22 bits for the rest, too few for
processes making ids in the same millisecond to stay apart (the old scheme here collided when
thousands were made in a few milliseconds). Lists order by creation time, not by id.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
import threading

_LOW = 10**18  # ids are _LOW + [0, _SPAN): always 19 digits, and below 2**63 like an int64
_SPAN = 2**63 - _LOW
_ROUNDS = 4
_HALF = 32
_MASK = (1 << _HALF) - 1


class _Generator:
    def __init__(self) -> None:
        key = secrets.token_bytes(16)
        # One keyed hash per round, copied per use (cheaper than keying a new one each time).
        self._rounds = [hashlib.blake2b(key=key, digest_size=4, person=bytes([r]) * 16) for r in range(_ROUNDS)]
        self._numbers = itertools.count()
        self._lock = threading.Lock()

    def _encrypt(self, value: int) -> int:
        left, right = value >> _HALF, value & _MASK
        for keyed in self._rounds:
            step = keyed.copy()
            step.update(right.to_bytes(4, "big"))
            left, right = right, left ^ int.from_bytes(step.digest(), "big")
        return (left << _HALF) | right

    def next(self) -> int:
        with self._lock:
            value = next(self._numbers)
        while True:  # cycle walking: about two rounds of the network on average (2**64 / _SPAN)
            value = self._encrypt(value)
            if value < _SPAN:
                return _LOW + value


_generator = _Generator()


def _after_fork() -> None:
    # A forked child would otherwise share the parent's key and counter, and repeat its ids.
    global _generator
    _generator = _Generator()


os.register_at_fork(after_in_child=_after_fork)


def new_id() -> str:
    return str(_generator.next())
