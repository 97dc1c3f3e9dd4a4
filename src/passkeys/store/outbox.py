"""Messages for a mailer to deliver (this service sends no mail itself): stored by sendLink, read
and marked sent by the mailer (`passkeys outbox list|mark-sent`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from passkeys.store.models import OutboxMessage
from passkeys.store.repository import Repository

_INSERT = insert(OutboxMessage.__table__)


@dataclass(frozen=True)
class Message:
    id: str
    user_id: str
    kind: str
    recipient: str
    body: str
    created_at: datetime


class OutboxRepository(Repository):
    __slots__ = ()

    def add(self, *, message_id: str, user_id: str, kind: str, recipient: str, body: str, at: datetime) -> None:
        self.conn.execute(
            _INSERT,
            {
                "id": message_id,
                "user_id": user_id,
                "kind": kind,
                "recipient": recipient,
                "body": body,
                "created_at": at,
            },
        )

    def unsent(self, *, limit: int) -> list[Message]:
        """The oldest messages not yet sent, first."""
        table = OutboxMessage.__table__.c
        rows = self.conn.execute(
            select(table.id, table.user_id, table.kind, table.recipient, table.body, table.created_at)
            .where(table.sent_at.is_(None))
            .order_by(table.created_at, table.id)
            .limit(limit)
        )
        return [Message(*row) for row in rows]

    def mark_sent(self, message_id: str, at: datetime) -> bool:
        """False when there is no such unsent message (unknown, or sent already). The sealed link
        is dropped with it: once delivered, the code is no longer kept, even sealed."""
        table = OutboxMessage.__table__.c
        result = self.conn.execute(
            update(OutboxMessage.__table__)
            .where(table.id == message_id, table.sent_at.is_(None))
            .values(sent_at=at, body="")
        )
        return result.rowcount == 1

    def delete_unsent_created_before(self, *, kind: str, created_before: datetime, limit: int) -> int:
        """Deletes up to `limit` unsent messages of `kind` created at or before `created_before`
        (the oldest first); how many. The conditions are repeated outside the subquery so that a
        message another process marked sent meanwhile stays (PostgreSQL rechecks them on a row
        changed since the subquery read it)."""
        table = OutboxMessage.__table__.c
        expired = (table.kind == kind, table.sent_at.is_(None), table.created_at <= created_before)
        oldest = select(table.id).where(*expired).order_by(table.created_at, table.id).limit(limit)
        result = self.conn.execute(delete(OutboxMessage.__table__).where(table.id.in_(oldest), *expired))
        return result.rowcount
