"""Messages for a mailer to deliver (this service sends no mail itself)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from passkeys.store.models import OutboxMessage
from passkeys.store.repository import Repository

_INSERT = insert(OutboxMessage.__table__)


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
