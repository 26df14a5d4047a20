"""Users' own provider keys in the gateway's database: stored encrypted, shown only by their last 4 characters.

The gateway never decrypts on the request path: :meth:`ByokStore.credentials` hands the orchestrator the
ciphertext as stored, and only orchestrators hold the keys to open it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from switchboard.api_gateway.byok.crypto import SecretBox
from switchboard.api_gateway.byok.tables import ByokKeyRow
from switchboard.common.events import ByokCredential

__all__ = ["ByokStore", "ByokView"]

CREDENTIALS_CACHE_SECONDS = 5.0
"""How long a replica reuses a user's credentials: a change made through another replica shows after this."""
_MAX_CACHED_USERS = 10_000


@dataclass(frozen=True, slots=True)
class ByokView:
    """What may be shown about a stored key: never the key, never its ciphertext."""

    provider: str
    base_url: str | None
    last4: str
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "base_url": self.base_url,
            "last4": self.last4,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


class ByokStore:
    def __init__(self, engine: AsyncEngine, box: SecretBox, *, cache_ttl: float = CREDENTIALS_CACHE_SECONDS) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._box = box
        self._cache_ttl = cache_ttl
        self._cache: dict[str, tuple[dict[str, ByokCredential], float]] = {}

    async def put(self, user_id: str, provider: str, api_key: str, base_url: str | None) -> ByokView:
        """Store (or replace) the user's key for ``provider``."""
        ciphertext = self._box.encrypt(api_key)
        try:
            view = await self._upsert(user_id, provider, ciphertext, api_key[-4:], base_url)
        except IntegrityError:  # created concurrently (another request or replica): now it exists, replace it
            view = await self._upsert(user_id, provider, ciphertext, api_key[-4:], base_url)
        self._cache.pop(user_id, None)
        return view

    async def _upsert(self, user_id: str, provider: str, ciphertext: str, last4: str, base_url: str | None) -> ByokView:
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            row = await session.get(ByokKeyRow, (user_id, provider))
            if row is None:
                row = ByokKeyRow(user_id=user_id, provider=provider, created_at=now)
                session.add(row)
            row.ciphertext, row.last4, row.base_url, row.updated_at = ciphertext, last4, base_url, now
            return _view(row)

    async def list(self, user_id: str) -> list[ByokView]:
        query = select(ByokKeyRow).where(ByokKeyRow.user_id == user_id).order_by(ByokKeyRow.provider)
        async with self._sessions() as session:
            return [_view(row) for row in (await session.execute(query)).scalars()]

    async def get(self, user_id: str, provider: str) -> ByokView | None:
        async with self._sessions() as session:
            row = await session.get(ByokKeyRow, (user_id, provider))
        return None if row is None else _view(row)

    async def delete(self, user_id: str, provider: str) -> bool:
        async with self._sessions.begin() as session:
            row = await session.get(ByokKeyRow, (user_id, provider))
            if row is not None:
                await session.delete(row)
        deleted = row is not None
        self._cache.pop(user_id, None)
        return deleted

    async def credentials(self, user_id: str) -> dict[str, ByokCredential]:
        """The user's keys by provider, still encrypted (what goes into ``ExecuteRequest.byok``); cached briefly."""
        now = time.monotonic()
        cached = self._cache.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        query = select(ByokKeyRow).where(ByokKeyRow.user_id == user_id)
        async with self._sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        found = {row.provider: ByokCredential(ciphertext=row.ciphertext, base_url=row.base_url) for row in rows}
        if self._cache_ttl > 0:
            if len(self._cache) >= _MAX_CACHED_USERS:
                self._cache = {user: entry for user, entry in self._cache.items() if entry[1] > now}
            if len(self._cache) < _MAX_CACHED_USERS:
                self._cache[user_id] = (found, now + self._cache_ttl)
        return found

    async def rotate_all(self) -> int:
        """Re-encrypt every stored key under the current (first) master key; returns how many rows."""
        async with self._sessions.begin() as session:
            rows = (await session.execute(select(ByokKeyRow))).scalars().all()
            for row in rows:
                try:
                    row.ciphertext = self._box.rotate(row.ciphertext)
                except ValueError as exc:
                    raise ValueError(f"{exc} (user {row.user_id!r}, provider {row.provider!r})") from None
        self._cache.clear()
        return len(rows)


def _aware(value: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive; they were written in UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _iso(value: datetime) -> str:
    return _aware(value).isoformat().replace("+00:00", "Z")


def _view(row: ByokKeyRow) -> ByokView:
    return ByokView(
        provider=row.provider, base_url=row.base_url, last4=row.last4,
        created_at=_aware(row.created_at), updated_at=_aware(row.updated_at),
    )  # fmt: skip
