"""Users with tiers; API keys with scopes, expiry, last use and an admin flag.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "gateway_users",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("tier", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("gateway_api_keys") as table:
        table.add_column(sa.Column("last4", sa.String(4), nullable=False, server_default=""))
        table.add_column(sa.Column("scopes", sa.JSON(), nullable=False, server_default='["anthropic-proxy"]'))
        table.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    # Keys minted before tiers existed belong to users on the default tier.
    op.execute(
        "INSERT INTO gateway_users (user_id, tier, created_at) "
        "SELECT user_id, 'free', MIN(created_at) FROM gateway_api_keys GROUP BY user_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("gateway_api_keys") as table:
        for column in ("last_used_at", "expires_at", "is_admin", "scopes", "last4"):
            table.drop_column(column)
    op.drop_table("gateway_users")
