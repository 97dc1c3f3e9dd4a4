"""Initial schema: organizations, users, their events, passkeys.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("domain", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
        sa.UniqueConstraint("domain", name="uq_organizations_domain"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("org_id", sa.String(200), nullable=False),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("given_name", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name="fk_users_org_id"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_index("ix_users_org_id", "users", ["org_id"])
    op.create_table(
        "events",
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("resource_owner", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "sequence", name="pk_events"),
    )
    op.create_table(
        "passkeys",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("challenge", sa.LargeBinary(64), nullable=True),
        sa.Column("rp_id", sa.String(253), nullable=False),
        sa.Column("challenge_expires_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("credential_id", sa.LargeBinary(1023), nullable=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("sign_count", sa.BigInteger(), nullable=True),
        sa.Column("aaguid", sa.String(36), nullable=True),
        sa.Column("attestation_format", sa.String(32), nullable=True),
        sa.Column("transports", sa.JSON(), nullable=True),
        sa.Column("backup_eligible", sa.Boolean(), nullable=True),
        sa.Column("backed_up", sa.Boolean(), nullable=True),
        sa.Column("user_verified", sa.Boolean(), nullable=True),
        sa.Column("verified_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_passkeys_user_id"),
        sa.PrimaryKeyConstraint("id", name="pk_passkeys"),
        # The same authenticator credential may belong to one passkey of one user only.
        sa.UniqueConstraint("credential_id", name="uq_passkeys_credential_id"),
    )
    op.create_index("ix_passkeys_user_id", "passkeys", ["user_id"])


def downgrade() -> None:
    op.drop_table("passkeys")
    op.drop_table("events")
    op.drop_index("ix_users_org_id", "users")
    op.drop_table("users")
    op.drop_table("organizations")
