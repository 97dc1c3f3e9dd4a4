"""Before serving: the schema brought up to date, the first admin and the outbox key created, once. Kept apart
from server.py so that the parent of worker processes imports no gRPC or protobuf."""

from __future__ import annotations

from passkeys.commands.bootstrap import bootstrap
from passkeys.config import Settings
from passkeys.sealing_key import load_key
from passkeys.store.db import Database
from passkeys.store.migrate import upgrade


def prepare_database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    upgrade(db.engine)
    bootstrap(db, domain=settings.rp_id, admin_pat_path=settings.admin_pat_path)
    load_key(key=settings.outbox_key, key_path=settings.outbox_key_path)  # the key file, on the first start
    return db
