"""Users, their subscription tiers and billing accounts (the gateway's own table)."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from switchboard.api_gateway.keys.tables import UserRow

__all__ = ["UserStore"]

_CACHE_SECONDS = 5.0


class UserStore:
    def __init__(self, engine: AsyncEngine, *, default_tier: str) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.default_tier = default_tier
        self._profiles: dict[str, tuple[tuple[str, str | None], float]] = {}

    async def ensure(self, user_id: str, tier: str | None = None) -> str:
        """Create the user if new (with ``tier`` or the default); an explicit tier also updates an existing user."""
        async with self._sessions.begin() as session:
            row = await session.get(UserRow, user_id)
            if row is None:
                row = UserRow(user_id=user_id, tier=tier or self.default_tier, created_at=datetime.now(UTC))
                session.add(row)
            elif tier is not None:
                row.tier = tier
            current = row.tier
        self._profiles.pop(user_id, None)
        return current

    async def set_tier(self, user_id: str, tier: str) -> None:
        try:
            await self.ensure(user_id, tier)
        except IntegrityError:  # created concurrently by another replica: now it exists, update it
            await self.ensure(user_id, tier)

    async def set_billing_account(self, user_id: str, account: str | None) -> None:
        """Bill the user's usage to ``account`` (a Lago subscription id); None: metering's default mapping."""
        with contextlib.suppress(IntegrityError):  # created concurrently by another replica: it exists now
            await self.ensure(user_id)
        async with self._sessions.begin() as session:
            await session.execute(update(UserRow).where(UserRow.user_id == user_id).values(billing_account=account))
        self._profiles.pop(user_id, None)

    async def tier_of(self, user_id: str) -> str:
        return (await self.profile_of(user_id))[0]

    async def profile_of(self, user_id: str) -> tuple[str, str | None]:
        """The user's tier and billing account, cached for a few seconds (one query for both)."""
        cached = self._profiles.get(user_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        query = select(UserRow.tier, UserRow.billing_account).where(UserRow.user_id == user_id)
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        profile = (row.tier or self.default_tier, row.billing_account) if row else (self.default_tier, None)
        self._profiles[user_id] = (profile, time.monotonic() + _CACHE_SECONDS)
        return profile
