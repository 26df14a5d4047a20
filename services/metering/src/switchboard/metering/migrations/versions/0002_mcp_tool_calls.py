"""MCP tool calls and their errors per request, for the tool-call success rate in ``UsageTotals``.

Existing rows get 0 for both: their ``tool_calls`` sums client ``tool_use`` blocks and MCP calls into one figure,
so the MCP share cannot be told apart from the row, and a migration reads the database alone (the completions
themselves stay in the usage stream only for its max age). Their ``tool_calls`` stays as it was.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # batch_alter_table: SQLite rebuilds the table, PostgreSQL alters it in place; the server default fills the
    # rows already there on both.
    with op.batch_alter_table("metering_usage") as table:
        table.add_column(sa.Column("mcp_tool_calls", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("mcp_tool_errors", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("metering_usage") as table:
        table.drop_column("mcp_tool_errors")
        table.drop_column("mcp_tool_calls")
