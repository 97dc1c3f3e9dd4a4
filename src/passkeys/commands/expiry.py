"""RegisterPasskey calls never verified: their NOT_READY passkeys are removed, each with a
`user.human.passkey.removed` event (reason `challenge_expired`), once their challenge has been
expired for one more challenge lifetime (PASSKEYS_CHALLENGE_TTL_S). Until then a late verify is
still told CHALLENGE_EXPIRED rather than NOT_FOUND; ListPasskeys hides them from the moment the
challenge expires. Every serving process sweeps every SWEEP_INTERVAL_S (server.py); sweeps of
several workers may overlap: a passkey is removed, and its event written, once.

The same sweep deletes the outbox's unsent registration links whose code has expired (links.py,
CODE_TTL after the message was made, in the same transaction as its code): such a link enrols
nothing any more, and its sealed code should not outlive it in the database or its backups. A
message marked sent keeps no body already; it stays, as the mailer's record."""

from __future__ import annotations

from datetime import datetime, timedelta

from passkeys.commands import links
from passkeys.details import now
from passkeys.store import expiry
from passkeys.store.db import Database

SWEEP_INTERVAL_S = 60.0
# Passkeys removed per transaction, so that one sweep holds the writer briefly.
BATCH = 100


def is_expired(challenge_expires_at: datetime | None, at: datetime) -> bool:
    """A NOT_READY passkey that can no longer be verified (ListPasskeys leaves it out)."""
    return challenge_expires_at is not None and challenge_expires_at <= at


def remove_expired(db: Database, *, challenge_ttl_s: int, at: datetime | None = None) -> int:
    """Removes the NOT_READY passkeys expired for longer than one challenge lifetime; how many."""
    at = at or now()
    expired_before = at - timedelta(seconds=challenge_ttl_s)
    removed = 0
    while True:
        with db.write() as uow:
            found = expiry.expired_pending(uow.conn, expired_before=expired_before, limit=BATCH)
            for passkey_id, user_id in found:
                user = uow.users.get(user_id, lock=True)  # events are per user, in order
                if user is not None and expiry.delete_if_expired(uow.conn, passkey_id, expired_before=expired_before):
                    uow.events.append(
                        user, "user.human.passkey.removed", at, passkey_id=passkey_id, reason="challenge_expired"
                    )
                    removed += 1
        if len(found) < BATCH:
            return removed


def purge_expired_links(db: Database, *, at: datetime | None = None) -> int:
    """Deletes the unsent registration-link messages whose code has expired; how many."""
    # A message and its code are made at the same instant, the code expiring CODE_TTL later.
    created_before = (at or now()) - links.CODE_TTL
    purged = 0
    while True:
        with db.write() as uow:
            deleted = uow.outbox.delete_unsent_created_before(
                kind=links.LINK_KIND, created_before=created_before, limit=BATCH
            )
        purged += deleted
        if deleted < BATCH:
            return purged
