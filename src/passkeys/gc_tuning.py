"""The garbage collector tuned for a server whose start-up objects live as long as it does.

Measured on the verify path (issue 17): collection took about a tenth of the server's CPU,
most of it in full collections walking the tens of thousands of objects that imports, the
protobuf descriptors and SQLAlchemy's metadata leave behind and that never become garbage.
`gc.freeze()` after start-up moves them out of every generation (never scanned again), and a
larger first generation makes the young collections rarer: a call's garbage is mostly freed
by reference counting at once, the cycles it leaves (tracebacks, SQLAlchemy's contexts) still
are collected, only in bigger batches.
"""

from __future__ import annotations

import gc

# Collections of the youngest generation once this many more containers were made than freed
# (CPython's default 700), and of the older ones after 20 and 100 of the one below (10, 10).
THRESHOLDS = (20_000, 20, 100)


def settle() -> None:
    """Once the server is built: what exists now is kept out of every later collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
