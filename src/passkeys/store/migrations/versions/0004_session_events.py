"""The event log of sign-in sessions: one row per change, kept after the session is deleted.

Sessions made before this revision have no history of their earlier changes: their next event
takes the sequence after the one they hold.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_events",
        sa.Column("session_id", sa.String(200), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("resource_owner", sa.String(200), nullable=False),
        sa.Column("editor_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "sequence", name="pk_session_events"),
    )


def downgrade() -> None:
    op.drop_table("session_events")
