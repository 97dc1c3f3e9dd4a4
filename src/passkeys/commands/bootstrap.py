"""First start with an empty database: the default organization, an admin machine user with
the instance owner role, and its personal access token written to a file (mode 0600), as
ZITADEL's first instance does."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from passkeys import ids
from passkeys.auth.permissions import IAM_OWNER
from passkeys.commands import admin
from passkeys.commands.users import DEFAULT_ORG_NAME
from passkeys.details import now
from passkeys.store.db import Database

ADMIN_NAME = "admin"
# Like ZITADEL's first-instance PAT: valid until replaced; rotate with `passkeys create-token`.
ADMIN_TOKEN_EXPIRES = datetime(9999, 1, 1, tzinfo=UTC)


def write_secret(path: Path, secret: str) -> None:
    """The token file, readable by its owner only (created 0600, never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)


def bootstrap(db: Database, *, domain: str, admin_pat_path: str) -> str:
    """The default organization's id; creates it and the admin on first start only."""
    with db.write() as uow:
        org = uow.orgs.first()
        if org is None:
            org_id = ids.new_id()
            uow.orgs.add(org_id=org_id, name=DEFAULT_ORG_NAME, domain=domain, at=now())
        else:
            org_id = org.id
        if not uow.machines.any():
            admin_id = admin.create_machine_user(uow, org_id=org_id, name=ADMIN_NAME)
            admin.grant_role(uow, user_id=admin_id, role=IAM_OWNER, org_id=None)
            issued = admin.create_token(uow, user_id=admin_id, expires_at=ADMIN_TOKEN_EXPIRES)
            # Written before the commit: if the file cannot be written, nothing is created and
            # the next start tries again.
            write_secret(Path(admin_pat_path), issued.token)
        return org_id
