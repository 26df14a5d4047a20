"""Create, list, verify and revoke API keys in the gateway's database, with a short in-memory cache.

Verification always hashes the presented key first and then compares digests in constant time, so a missing,
unknown or revoked key costs the same as a valid one up to the answer.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from switchboard.api_gateway.keys.secrets import hash_secret, looks_like_key, mint_secret
from switchboard.api_gateway.keys.tables import ApiKeyRow
from switchboard.api_gateway.keys.users import UserStore
from switchboard.api_gateway.principal import PROXY_SCOPE, Principal
from switchboard.common.ids import new_id

__all__ = ["CreatedKey", "KeyStore", "KeyView"]


@dataclass(frozen=True, slots=True)
class KeyView:
    """What may be shown about a key: never the secret, never its hash."""

    key_id: str
    user_id: str
    name: str | None
    scopes: tuple[str, ...]
    prefix: str
    last4: str
    is_admin: bool
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def public(self) -> dict[str, object]:
        return {
            "id": self.key_id,
            "user_id": self.user_id,
            "name": self.name,
            "scopes": list(self.scopes),
            "prefix": self.prefix,
            "last4": self.last4,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "last_used_at": _iso(self.last_used_at),
        }


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key_id: str
    user_id: str
    secret: str
    """Shown once to the caller; only its hash is stored."""
    view: KeyView


@dataclass(frozen=True, slots=True)
class _Cached:
    principal: Principal
    digest: str
    expires_at: datetime | None
    valid_until: float


class KeyStore:
    def __init__(self, engine: AsyncEngine, users: UserStore, *, cache_ttl: float) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._users = users
        self._cache_ttl = cache_ttl
        self._cache: dict[str, _Cached] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def create(
        self,
        *,
        user_id: str,
        name: str | None = None,
        scopes: Sequence[str] = (PROXY_SCOPE,),
        expires_at: datetime | None = None,
        is_admin: bool = False,
        tier: str | None = None,
    ) -> CreatedKey:
        await self._users.ensure(user_id, tier)
        secret = mint_secret()
        row = ApiKeyRow(
            key_id=new_id("key", 20),
            user_id=user_id,
            name=name,
            secret_hash=hash_secret(secret),
            display_prefix=secret[:14],
            last4=secret[-4:],
            scopes=list(dict.fromkeys(scopes)),
            is_admin=is_admin,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
            last_used_at=None,
            revoked_at=None,
        )
        async with self._sessions.begin() as session:
            session.add(row)
        return CreatedKey(key_id=row.key_id, user_id=user_id, secret=secret, view=_view(row))

    async def count(self, *, user_id: str | None = None) -> int:
        return len(await self.list(user_id=user_id))

    async def list(self, *, user_id: str | None) -> list[KeyView]:
        """Active (not revoked) keys, newest first; every user's when ``user_id`` is None."""
        query = select(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None)).order_by(ApiKeyRow.created_at.desc())
        if user_id is not None:
            query = query.where(ApiKeyRow.user_id == user_id)
        async with self._sessions() as session:
            return [_view(row) for row in (await session.execute(query)).scalars()]

    async def get(self, key_id: str) -> KeyView | None:
        async with self._sessions() as session:
            row = await session.get(ApiKeyRow, key_id)
        return None if row is None or row.revoked_at is not None else _view(row)

    async def revoke(self, key_id: str) -> str | None:
        """Revoke the key; returns its hash (for the other replicas' caches) or None if there was none."""
        async with self._sessions.begin() as session:
            row = await session.get(ApiKeyRow, key_id)
            if row is None or row.revoked_at is not None:
                return None
            row.revoked_at = datetime.now(UTC)
            digest = row.secret_hash
        self.forget(digest)
        return digest

    def forget(self, digest: str) -> None:
        self._cache.pop(digest, None)

    async def authenticate(self, secret: str) -> Principal | None:
        """The principal owning ``secret``, or None for a malformed, unknown, revoked or expired key."""
        if not looks_like_key(secret):
            return None
        return await self.authenticate_digest(hash_secret(secret))

    async def authenticate_digest(self, digest: str) -> Principal | None:
        """Like :meth:`authenticate`, for a key known only by its SHA-256 (as other services send it)."""
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is None or cached.valid_until <= now:
            cached = await self._lookup(digest, now)
        if cached is None or not hmac.compare_digest(cached.digest, digest):
            return None
        if cached.expires_at is not None and cached.expires_at <= datetime.now(UTC):
            return None
        return cached.principal

    async def _lookup(self, digest: str, now: float) -> _Cached | None:
        query = select(ApiKeyRow).where(ApiKeyRow.secret_hash == digest, ApiKeyRow.revoked_at.is_(None))
        async with self._sessions() as session:
            row = (await session.execute(query)).scalar_one_or_none()
        if row is None:
            return None
        tier, billing_account = await self._users.profile_of(row.user_id)
        principal = Principal(
            user_id=row.user_id, key_id=row.key_id, tier=tier, via="api_key",
            scopes=frozenset(row.scopes or ()), is_admin=row.is_admin, billing_account=billing_account,
        )  # fmt: skip
        entry = _Cached(principal, row.secret_hash, _aware(row.expires_at), now + self._cache_ttl)
        if self._cache_ttl > 0:
            self._cache[digest] = entry
        self._touch_soon(row.key_id)
        return entry

    def _touch_soon(self, key_id: str) -> None:
        """Record ``last_used_at`` off the request path (at most once per cache period per key)."""
        task = asyncio.get_running_loop().create_task(self._touch(key_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _touch(self, key_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ApiKeyRow).where(ApiKeyRow.key_id == key_id).values(last_used_at=datetime.now(UTC))
            )

    def invalidate_user(self, user_id: str) -> None:
        """Drop cached keys of ``user_id`` (their tier changed)."""
        for digest in [d for d, c in self._cache.items() if c.principal.user_id == user_id]:
            self._cache.pop(digest, None)

    async def close(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands timezone-aware columns back naive; they were written in UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat().replace("+00:00", "Z") if aware is not None else None


def _view(row: ApiKeyRow) -> KeyView:
    return KeyView(
        key_id=row.key_id, user_id=row.user_id, name=row.name, scopes=tuple(row.scopes or ()),
        prefix=row.display_prefix, last4=row.last4, is_admin=row.is_admin, created_at=row.created_at,
        expires_at=row.expires_at, last_used_at=row.last_used_at, revoked_at=row.revoked_at,
    )  # fmt: skip
