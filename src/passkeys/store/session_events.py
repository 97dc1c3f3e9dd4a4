"""The per-session event log (zitadel.session.v2): every change of a session is one event, in a
gap-free sequence per session, written in the transaction that changes the session's row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select

from passkeys.details import Details
from passkeys.store.models import SessionEvent
from passkeys.store.repository import Repository

_EVENTS = SessionEvent.__table__
_INSERT = insert(_EVENTS)
_HISTORY = select(_EVENTS).where(_EVENTS.c.session_id == bindparam("session_id")).order_by(_EVENTS.c.sequence)

NewEvent = tuple[str, dict[str, Any]]  # (type, payload)


class SessionEventRepository(Repository):
    __slots__ = ()

    def append(
        self,
        session_id: str,
        events: Sequence[NewEvent],
        *,
        after: int,
        at: datetime,
        resource_owner: str,
        editor_id: str,
        created_at: datetime,
    ) -> Details:
        """`events` as the session's next ones after sequence `after` (its row locked, or new); the
        Details are the last one's. `created_at` is the session's."""
        rows = [
            {"session_id": session_id, "sequence": after + n, "type": event_type, "resource_owner": resource_owner,
             "editor_id": editor_id, "created_at": at, "payload": payload}
            for n, (event_type, payload) in enumerate(events, start=1)
        ]  # fmt: skip
        self.conn.execute(_INSERT, rows)
        return Details(
            sequence=after + len(rows), change_date=at, resource_owner=resource_owner, creation_date=created_at
        )

    def history(self, session_id: str) -> Sequence[Row[Any]]:
        """The session's events, oldest first (also after it was deleted)."""
        return self.conn.execute(_HISTORY, {"session_id": session_id}).all()
