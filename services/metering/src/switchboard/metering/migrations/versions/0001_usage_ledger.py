"""Usage ledger: one row per request.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "metering_usage",
        sa.Column("request_id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_model", sa.String(255), nullable=False),
        sa.Column("upstream_model", sa.String(255), nullable=True),
        sa.Column("provider", sa.String(128), nullable=True),
        sa.Column("input_tokens", sa.BigInteger, nullable=False),
        sa.Column("output_tokens", sa.BigInteger, nullable=False),
        sa.Column("cache_creation_input_tokens", sa.BigInteger, nullable=False),
        sa.Column("cache_read_input_tokens", sa.BigInteger, nullable=False),
        sa.Column("tool_calls", sa.Integer, nullable=False),
        sa.Column("execution_ms", sa.Float, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("byok", sa.Boolean, nullable=False),
        sa.Column("billed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_metering_usage_user_id", "metering_usage", ["user_id"])
    op.create_index("ix_metering_usage_day", "metering_usage", ["day"])


def downgrade() -> None:
    op.drop_table("metering_usage")
