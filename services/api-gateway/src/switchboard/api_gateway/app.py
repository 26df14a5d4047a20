"""The api-gateway's composition root: builds the FastAPI app and, in its lifespan, every pool and client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from fastapi import FastAPI

from switchboard.api_gateway.bus import OrchestratorBus
from switchboard.api_gateway.database import create_engine, migrate
from switchboard.api_gateway.http_errors import install_error_handlers
from switchboard.api_gateway.keys.store import KeyStore
from switchboard.api_gateway.model_catalog import ModelCatalog
from switchboard.api_gateway.relay import RelaySettings
from switchboard.api_gateway.request_context import RequestIdMiddleware
from switchboard.api_gateway.routes import health, messages, models
from switchboard.api_gateway.settings import GatewaySettings
from switchboard.api_gateway.state import GatewayState

__all__ = ["create_app"]

_MODELS_TIMEOUT = 2.0


def create_app(settings: GatewaySettings) -> FastAPI:
    app = FastAPI(
        title="Switchboard api-gateway",
        lifespan=_lifespan(settings),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    for module in (messages, models, health):
        app.include_router(module.router)
    return app


def _lifespan(settings: GatewaySettings):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url())
        await migrate(engine)
        nc = await nats.connect(servers=settings.nats_servers(), name="api-gateway", max_reconnect_attempts=-1)
        bus = OrchestratorBus(nc, settings.subjects)
        await bus.start()
        app.state.gateway = GatewayState(
            settings=settings,
            engine=engine,
            keys=KeyStore(engine, cache_ttl=settings.auth_cache_ttl),
            bus=bus,
            models=ModelCatalog(bus, ttl=settings.models_cache_ttl, timeout=_MODELS_TIMEOUT),
            relay=RelaySettings(
                idle_timeout=settings.orchestrator_idle_timeout, ping_interval=settings.client_ping_interval
            ),
        )
        try:
            yield
        finally:
            await bus.close()
            await nc.drain()
            await engine.dispose()

    return lifespan
