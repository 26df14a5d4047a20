"""The ``gateway_audit_log`` table: one row per API call; key ids only, never key secrets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.api_gateway.keys.tables import Base

__all__ = ["COLUMN_LENGTHS", "AuditRow"]

COLUMN_LENGTHS: dict[str, int] = {
    "request_id": 64,
    "user_id": 255,
    "key_id": 40,
    "method": 16,
    "endpoint": 1024,
    "model": 255,
    "client_address": 255,
}
"""Bounded string columns: the recorder clips values to these so one odd request cannot fail a whole batch."""

# BIGINT on PostgreSQL (a busy gateway outgrows 2³¹ rows); SQLite autoincrements only an INTEGER primary key.
_ID = BigInteger().with_variant(Integer(), "sqlite")


class AuditRow(Base):
    __tablename__ = "gateway_audit_log"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    """When the request arrived, in UTC."""
    request_id: Mapped[str] = mapped_column(String(COLUMN_LENGTHS["request_id"]), index=True)
    user_id: Mapped[str | None] = mapped_column(String(COLUMN_LENGTHS["user_id"]), index=True)
    key_id: Mapped[str | None] = mapped_column(String(COLUMN_LENGTHS["key_id"]))
    method: Mapped[str] = mapped_column(String(COLUMN_LENGTHS["method"]))
    endpoint: Mapped[str] = mapped_column(String(COLUMN_LENGTHS["endpoint"]))
    """The path only: query strings can carry secrets."""
    model: Mapped[str | None] = mapped_column(String(COLUMN_LENGTHS["model"]))
    status: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    client_address: Mapped[str | None] = mapped_column(String(COLUMN_LENGTHS["client_address"]))
    body_excerpt: Mapped[str | None] = mapped_column(Text)
    """Start of the request body; only written when an operator enables content logging."""
