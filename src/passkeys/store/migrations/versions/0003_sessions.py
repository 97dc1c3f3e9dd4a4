"""Sign-in sessions (zitadel.session.v2) and the last use of each passkey.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("creator_id", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=True),
        sa.Column("user_verified_at", TS, nullable=True),
        sa.Column("webauthn_verified_at", TS, nullable=True),
        sa.Column("webauthn_user_verified", sa.Boolean(), nullable=True),
        sa.Column("passkey_id", sa.String(200), nullable=True),
        sa.Column("challenge", sa.LargeBinary(64), nullable=True),
        sa.Column("challenge_rp_id", sa.String(253), nullable=True),
        sa.Column("challenge_user_verification", sa.String(16), nullable=True),
        sa.Column("challenge_expires_at", TS, nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("user_agent", sa.JSON(), nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_sessions_user_id"),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    with op.batch_alter_table("passkeys") as batch:
        batch.add_column(sa.Column("last_used_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("passkeys") as batch:
        batch.drop_column("last_used_at")
    op.drop_table("sessions")
