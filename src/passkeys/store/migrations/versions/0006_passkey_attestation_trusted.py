"""Whether a passkey's attestation was verified against a trust root (PasskeyDetailsService).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for passkeys verified before this column: reported as not verified against a root.
    with op.batch_alter_table("passkeys") as batch:
        batch.add_column(sa.Column("attestation_trusted", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("passkeys") as batch:
        batch.drop_column("attestation_trusted")
