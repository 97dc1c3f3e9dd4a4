"""Fewer glibc malloc arenas: by default each busy thread may get its own (8 per core), and
the freed memory of a 1 MiB credential parsed in one of them is not reused by the others, so
resident memory with many large requests in flight grows with the thread count. And large
blocks (a request's bytes, its parsed Struct) always mapped apart, so that freeing them gives
the memory back (issue 17: 64 x 1 MiB credentials in flight, 296 -> 270 MiB with the parsing of
requests moved to the handler's thread, api/interceptors/chain.py)."""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter numbers
M_MMAP_THRESHOLD = -3
ARENAS = 2
# Blocks from this size on get pages of their own (mmap), returned to the system when freed.
MMAP_THRESHOLD = 256 * 1024


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """True when glibc accepted the limit (it is a no-op elsewhere, e.g. on musl or macOS)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    # A fixed threshold also stops glibc raising it (up to 32 MiB) after the first large block is
    # freed, which would put every later 1 MiB request's buffers on the heap, kept after use.
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return bool(mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Give the system back the free pages inside malloc's heaps (glibc's malloc_trim): what
    start-up allocated and freed (imports, the FIDO metadata's JSON parsed and dropped, the
    migrations) leaves holes that glibc keeps resident, ~4.5 MiB of a worker idle. True when
    glibc released any."""
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim.argtypes = (ctypes.c_size_t,)
    return bool(malloc_trim(0))
