"""The gateway's own tables (schema changes go through Alembic migrations in ``migrations/``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["ApiKeyRow", "Base", "UserRow"]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={"ix": "ix_%(table_name)s_%(column_0_name)s"})


class UserRow(Base):
    """A user the gateway knows: created with their first key or first JWT request."""

    __tablename__ = "gateway_users"

    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    tier: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    billing_account: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
    """The Lago subscription (``external_subscription_id``) the user's usage is billed to; None: the default."""


class ApiKeyRow(Base):
    __tablename__ = "gateway_api_keys"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the key: keys are 256-bit random, so a slow password hash would add latency, not safety."""
    display_prefix: Mapped[str] = mapped_column(String(24))
    last4: Mapped[str] = mapped_column(String(4), default="")
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
