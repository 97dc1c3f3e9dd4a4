"""The garbage collector told that the server's start-up objects live as long as it does.

Measured on the verify path (issue 17): collection took about a tenth of the server's CPU,
most of it in full collections walking the tens of thousands of objects that imports, the
protobuf descriptors and SQLAlchemy's metadata leave behind and that never become garbage.
`gc.freeze()` after start-up moves them out of every generation (never scanned again).

The thresholds stay CPython's (700, 10, 10): a larger first generation would let the cycles
a call leaves (asyncio futures, tracebacks) keep 1 MiB requests alive longer, and the memory
bound with 64 of them in flight is tight already (a first generation of 20,000 was tried: no
gain that this shared machine could tell from its noise).
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Once the server is built: what exists now is kept out of every later collection."""
    gc.collect()
    gc.freeze()
