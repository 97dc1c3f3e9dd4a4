"""Fewer glibc malloc arenas: by default each busy thread may get its own (8 per core), and
the freed memory of a 1 MiB credential parsed in one of them is not reused by the others, so
resident memory with many large requests in flight grows with the thread count."""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter number
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """True when glibc accepted the limit (it is a no-op elsewhere, e.g. on musl or macOS)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_ARENA_MAX, arenas))
