"""The usage ledger's table: one row per request, metering's own record of what was consumed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "UsageRow"]


class Base(DeclarativeBase):
    pass


class UsageRow(Base):
    """One completion; inserted idempotently by request id, ``billed_at`` set once Lago has it."""

    __tablename__ = "metering_usage"

    request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_model: Mapped[str] = mapped_column(String(255))
    upstream_model: Mapped[str | None] = mapped_column(String(255))
    provider: Mapped[str | None] = mapped_column(String(128))
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    cache_creation_input_tokens: Mapped[int] = mapped_column(BigInteger)
    cache_read_input_tokens: Mapped[int] = mapped_column(BigInteger)
    tool_calls: Mapped[int] = mapped_column(Integer)
    """Client-visible ``tool_use`` blocks plus MCP tool calls (what Lago's ``tool_calls`` property carries)."""
    mcp_tool_calls: Mapped[int] = mapped_column(Integer, server_default="0")
    """MCP tool calls an agent ran; 0 for rows written before revision 0002 (not derivable from them)."""
    mcp_tool_errors: Mapped[int] = mapped_column(Integer, server_default="0")
    """Those of them whose result was an error (``is_error``); 0 for rows written before revision 0002."""
    execution_ms: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(32))
    byok: Mapped[bool] = mapped_column(Boolean)
    billed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
