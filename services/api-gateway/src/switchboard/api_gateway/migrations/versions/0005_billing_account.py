"""Users get a billing account: the Lago subscription their usage is billed to (none: metering's template).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("gateway_users") as table:
        table.add_column(sa.Column("billing_account", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_users") as table:
        table.drop_column("billing_account")
