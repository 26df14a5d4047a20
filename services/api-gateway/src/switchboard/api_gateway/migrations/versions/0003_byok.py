"""Users' own provider keys (BYOK), encrypted.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "gateway_byok_keys",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("provider", sa.String(64), primary_key=True),
        sa.Column("base_url", sa.String(2048), nullable=True),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_byok_keys")
