"""Before serving: the schema brought up to date and the first admin created, once. Kept apart
from server.py so that the parent of worker processes imports no gRPC or protobuf."""

from __future__ import annotations

from passkeys.commands.bootstrap import bootstrap
from passkeys.config import Settings
from passkeys.store.db import Database
from passkeys.store.migrate import upgrade


def prepare_database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    upgrade(db.engine)
    bootstrap(db, domain=settings.rp_id, admin_pat_path=settings.admin_pat_path)
    return db
