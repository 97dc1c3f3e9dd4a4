"""memory.py: what start-up allocated and freed goes back to the system once the server is built."""

from __future__ import annotations

import re
from pathlib import Path

from passkeys.memory import release_free_memory


def resident_kib() -> int:
    found = re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text())
    assert found is not None
    return int(found.group(1))


def test_freed_small_blocks_go_back_to_the_system() -> None:
    # Blocks below the mmap threshold, as a parsed JSON document's, freed with a few kept
    # between them: the heap cannot shrink from its top, only malloc_trim gives the pages back.
    blocks = [bytes(4000 + i % 7) for i in range(10_000)]
    kept = blocks[::500]
    del blocks
    before = resident_kib()
    assert release_free_memory()
    assert resident_kib() < before - 20_000
    assert len(kept) == 20
