"""The SQL, on a unit of work's connection, of removing NOT_READY passkeys whose registration was
never verified (commands/expiry.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from passkeys.store.models import Passkey
from passkeys.store.passkeys import NOT_READY


def expired_pending(conn: Connection, *, expired_before: datetime, limit: int) -> list[tuple[str, str]]:
    """(passkey id, user id) of NOT_READY passkeys whose challenge expired before `expired_before`."""
    rows = conn.execute(
        select(Passkey.id, Passkey.user_id)
        .where(Passkey.state == NOT_READY, Passkey.challenge_expires_at < expired_before)
        .order_by(Passkey.challenge_expires_at, Passkey.id)
        .limit(limit)
    )
    return [(passkey_id, user_id) for passkey_id, user_id in rows]


def delete_if_expired(conn: Connection, passkey_id: str, *, expired_before: datetime) -> bool:
    """False when another process removed or verified it meanwhile."""
    result = conn.execute(
        delete(Passkey).where(
            Passkey.id == passkey_id, Passkey.state == NOT_READY, Passkey.challenge_expires_at < expired_before
        )
    )
    return result.rowcount == 1
