"""Resource ids: decimal strings like ZITADEL's (time-ordered, 18 digits), unguessable enough
not to be enumerated (22 random bits under the millisecond) and unique by their primary key."""

from __future__ import annotations

import secrets
import time

_EPOCH_MS = 1_600_000_000_000  # 2020-09-13: keeps the numbers short for the next century


def new_id() -> str:
    return str(((int(time.time() * 1000) - _EPOCH_MS) << 22) | secrets.randbits(22))
