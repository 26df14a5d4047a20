"""Key administration for the ``switchboard keys`` command: opens the database, migrates, acts, closes."""

from __future__ import annotations

from switchboard.api_gateway.database import create_engine, migrate
from switchboard.api_gateway.keys.store import CreatedKey, KeyStore
from switchboard.api_gateway.settings import GatewaySettings

__all__ = ["CreatedKey", "count_api_keys", "create_api_key"]


async def create_api_key(settings: GatewaySettings, *, user_id: str, name: str | None = None) -> CreatedKey:
    engine = create_engine(settings.resolved_database_url())
    try:
        await migrate(engine)
        return await KeyStore(engine, cache_ttl=0).create(user_id=user_id, name=name)
    finally:
        await engine.dispose()


async def count_api_keys(settings: GatewaySettings, *, user_id: str | None = None) -> int:
    engine = create_engine(settings.resolved_database_url())
    try:
        await migrate(engine)
        return await KeyStore(engine, cache_ttl=0).count(user_id=user_id)
    finally:
        await engine.dispose()
