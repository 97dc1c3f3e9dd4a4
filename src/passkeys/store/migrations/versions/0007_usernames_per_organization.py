"""Usernames unique within an organization (issue 15): unique (org_id, username) instead of
username alone, and an index on username for sign-in by a bare login name.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Callable

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _rebuild_users_without_foreign_keys(change: Callable[[], None]) -> None:
    """SQLite cannot drop a constraint: batch mode copies `users` into a new table and drops the
    old one, which the children's foreign keys refuse while enforced. PRAGMA foreign_keys works
    only between transactions: so the migration's transaction is committed, keys are off for the
    rebuild, checked after it (a violation rolls the rebuild back), and back on."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        change()
        return
    raw = bind.connection.dbapi_connection
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        change()
        violations = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise RuntimeError(f"foreign keys broken by the users rebuild: {violations[:5]}")
        bind.exec_driver_sql("COMMIT")
    except BaseException:
        if raw is not None and raw.in_transaction:  # type: ignore[attr-defined]
            bind.exec_driver_sql("ROLLBACK")
        raise
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        bind.exec_driver_sql("BEGIN IMMEDIATE")  # the transaction alembic records the revision in


def upgrade() -> None:
    def change() -> None:
        with op.batch_alter_table("users") as batch:
            batch.drop_constraint("uq_users_username", type_="unique")
            batch.create_unique_constraint("uq_users_org_id_username", ["org_id", "username"])
            batch.create_index("ix_users_username", ["username"])

    _rebuild_users_without_foreign_keys(change)


def downgrade() -> None:
    def change() -> None:
        with op.batch_alter_table("users") as batch:
            batch.drop_index("ix_users_username")
            batch.drop_constraint("uq_users_org_id_username", type_="unique")
            batch.create_unique_constraint("uq_users_username", ["username"])

    _rebuild_users_without_foreign_keys(change)
