"""Create and verify API keys against the gateway's database, with a short in-memory cache."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from switchboard.api_gateway.keys.secrets import hash_secret, looks_like_key, mint_secret
from switchboard.api_gateway.keys.tables import ApiKeyRow
from switchboard.common.ids import new_id

__all__ = ["CreatedKey", "KeyStore", "Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request is from."""

    user_id: str
    key_id: str


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key_id: str
    user_id: str
    secret: str
    """Shown once to the caller; only its hash is stored."""


class KeyStore:
    def __init__(self, engine: AsyncEngine, *, cache_ttl: float) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._cache_ttl = cache_ttl
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def create(self, *, user_id: str, name: str | None = None) -> CreatedKey:
        secret = mint_secret()
        row = ApiKeyRow(
            key_id=new_id("key", 20),
            user_id=user_id,
            name=name,
            secret_hash=hash_secret(secret),
            display_prefix=secret[:16],
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
        async with self._sessions.begin() as session:
            session.add(row)
        return CreatedKey(key_id=row.key_id, user_id=user_id, secret=secret)

    async def count(self, *, user_id: str | None = None) -> int:
        query = select(func.count()).select_from(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))
        if user_id is not None:
            query = query.where(ApiKeyRow.user_id == user_id)
        async with self._sessions() as session:
            return int((await session.execute(query)).scalar_one())

    async def authenticate(self, secret: str) -> Principal | None:
        """The principal owning ``secret``, or None for a malformed, unknown or revoked key."""
        if not looks_like_key(secret):
            return None
        digest = hash_secret(secret)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        principal = await self._lookup(digest)
        if principal is not None and self._cache_ttl > 0:
            self._cache[digest] = (principal, now + self._cache_ttl)
        return principal

    async def _lookup(self, digest: str) -> Principal | None:
        query = select(ApiKeyRow.user_id, ApiKeyRow.key_id).where(
            ApiKeyRow.secret_hash == digest, ApiKeyRow.revoked_at.is_(None)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else Principal(user_id=row.user_id, key_id=row.key_id)
