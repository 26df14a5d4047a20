"""The BYOK table: one encrypted provider key per (user, provider)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.api_gateway.keys.tables import Base

__all__ = ["ByokKeyRow"]


class ByokKeyRow(Base):
    __tablename__ = "gateway_byok_keys"

    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    base_url: Mapped[str | None] = mapped_column(String(2048))
    ciphertext: Mapped[str] = mapped_column(Text)
    """Fernet token of the key under ``SWITCHBOARD_BYOK_KEYS``; the plaintext is never stored."""
    last4: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
