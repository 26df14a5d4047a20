"""Users and their subscription tiers (the gateway's own table)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from switchboard.api_gateway.keys.tables import UserRow

__all__ = ["UserStore"]

_TIER_CACHE_SECONDS = 5.0


class UserStore:
    def __init__(self, engine: AsyncEngine, *, default_tier: str) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.default_tier = default_tier
        self._tiers: dict[str, tuple[str, float]] = {}

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
        self._tiers.pop(user_id, None)
        return current

    async def set_tier(self, user_id: str, tier: str) -> None:
        try:
            await self.ensure(user_id, tier)
        except IntegrityError:  # created concurrently by another replica: now it exists, update it
            await self.ensure(user_id, tier)

    async def tier_of(self, user_id: str) -> str:
        cached = self._tiers.get(user_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        async with self._sessions() as session:
            tier = (await session.execute(select(UserRow.tier).where(UserRow.user_id == user_id))).scalar()
        resolved = tier or self.default_tier
        self._tiers[user_id] = (resolved, time.monotonic() + _TIER_CACHE_SECONDS)
        return resolved
