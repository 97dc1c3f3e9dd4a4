"""Messages for a mailer to deliver (this service sends no mail itself): stored by sendLink, read
and marked sent by the mailer (`passkeys outbox list|mark-sent`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

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
