"""Account administration for the ``switchboard`` command: opens the database, migrates, acts, closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from switchboard.api_gateway.byok.crypto import SecretBox
from switchboard.api_gateway.byok.store import ByokStore
from switchboard.api_gateway.database import migrated_engine
from switchboard.api_gateway.keys.store import CreatedKey, KeyStore
from switchboard.api_gateway.keys.users import UserStore
from switchboard.api_gateway.settings import GatewaySettings

__all__ = ["CreatedKey", "count_api_keys", "create_api_key", "rotate_byok_keys", "set_user_tier"]


@asynccontextmanager
async def _stores(settings: GatewaySettings) -> AsyncIterator[tuple[KeyStore, UserStore]]:
    async with migrated_engine(settings.resolved_database_url()) as engine:
        users = UserStore(engine, default_tier=settings.default_tier)
        keys = KeyStore(engine, users, cache_ttl=0)
        yield keys, users
        await keys.close()


async def create_api_key(
    settings: GatewaySettings,
    *,
    user_id: str,
    name: str | None = None,
    tier: str | None = None,
    is_admin: bool = False,
) -> CreatedKey:
    async with _stores(settings) as (keys, _):
        return await keys.create(user_id=user_id, name=name, tier=tier, is_admin=is_admin)


async def count_api_keys(settings: GatewaySettings, *, user_id: str | None = None) -> int:
    async with _stores(settings) as (keys, _):
        return await keys.count(user_id=user_id)


async def set_user_tier(settings: GatewaySettings, *, user_id: str, tier: str) -> None:
    async with _stores(settings) as (_, users):
        await users.set_tier(user_id, tier)


async def rotate_byok_keys(settings: GatewaySettings) -> int:
    """Re-encrypt every stored BYOK key under the first of ``SWITCHBOARD_BYOK_KEYS``; returns how many."""
    box = SecretBox.from_setting(settings.byok_keys.get_secret_value() if settings.byok_keys else None)
    if box is None:
        raise ValueError("SWITCHBOARD_BYOK_KEYS is not set: there is nothing to rotate to")
    async with migrated_engine(settings.resolved_database_url()) as engine:
        return await ByokStore(engine, box).rotate_all()
