"""The api-gateway's composition root: builds the FastAPI app and, in its lifespan, every pool and client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import httpx
import nats
import nats.errors
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.api_gateway.audit.middleware import AuditMiddleware
from switchboard.api_gateway.audit.recorder import AuditRecorder
from switchboard.api_gateway.auth import Authenticator
from switchboard.api_gateway.bus import OrchestratorBus
from switchboard.api_gateway.byok.crypto import SecretBox
from switchboard.api_gateway.byok.store import ByokStore
from switchboard.api_gateway.credential_responder import CredentialResponder
from switchboard.api_gateway.dashboard import routes as dashboard
from switchboard.api_gateway.database import create_engine, migrate
from switchboard.api_gateway.http_errors import install_error_handlers
from switchboard.api_gateway.identity.jwt_verifier import JwtVerifier
from switchboard.api_gateway.keys.store import KeyStore
from switchboard.api_gateway.keys.users import UserStore
from switchboard.api_gateway.metrics import gateway_metrics
from switchboard.api_gateway.metrics_middleware import MetricsMiddleware
from switchboard.api_gateway.model_catalog import ModelCatalog
from switchboard.api_gateway.ratelimit.limiter import RateLimiter
from switchboard.api_gateway.ratelimit.tiers import load_tiers
from switchboard.api_gateway.ratelimit.usage_feed import UsageFeed
from switchboard.api_gateway.relay import RelaySettings
from switchboard.api_gateway.request_context import FASTAPI_TELEMETRY, RequestIdMiddleware
from switchboard.api_gateway.routes import (
    api_keys,
    audit,
    byok,
    health,
    me,
    messages,
    metering_admin,
    metrics,
    models,
    rate_limit,
    usage,
    users,
)
from switchboard.api_gateway.routes.mcp_proxy import tool_broker_router
from switchboard.api_gateway.settings import GatewaySettings
from switchboard.api_gateway.shutdown import Drain
from switchboard.api_gateway.state import GatewayState
from switchboard.common.metrics import sample_round_trip

__all__ = ["SERVICE_NAME", "app_from_environment", "create_app"]

SERVICE_NAME = "api-gateway"

_MODELS_TIMEOUT = 2.0
_IDENTITY_TIMEOUT = httpx.Timeout(5.0)
_BROKER_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


def create_app(settings: GatewaySettings, drain: Drain | None = None) -> FastAPI:
    """The gateway; ``drain`` is started by the server on SIGTERM (``__main__``), else it never starts."""
    drain = drain or Drain(settings.shutdown_grace)
    app = FastAPI(
        title="Switchboard api-gateway",
        telemetry=FASTAPI_TELEMETRY,
        lifespan=_lifespan(settings, drain),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.audit = None
    app.state.byok = None
    # Added innermost first: the request id exists before the audit middleware reads it.
    app.add_middleware(AuditMiddleware, recorder_getter=lambda: app.state.audit,
                       trust_forwarded=settings.trust_forwarded_for)  # fmt: skip
    app.add_middleware(RequestIdMiddleware, access_log=settings.access_log)
    app.add_middleware(MetricsMiddleware, metrics=gateway_metrics())
    install_error_handlers(app)
    for module in (
        messages,
        models,
        health,
        metrics,
        api_keys,
        users,
        byok,
        audit,
        usage,
        me,
        rate_limit,
        metering_admin,
    ):
        app.include_router(module.router)
    if settings.dashboard:
        app.include_router(dashboard.router)
        app.mount(f"{dashboard.DASHBOARD_PATH}/static", dashboard.static_files())
    if settings.tool_broker_url:
        app.include_router(tool_broker_router(settings.tool_broker_url))
    return app


def app_from_environment() -> FastAPI:
    """The app each worker process builds when ``SWITCHBOARD_GATEWAY_WORKERS`` > 1 (uvicorn's app factory)."""
    settings = GatewaySettings()
    settings.configure_observability(SERVICE_NAME)  # a spawned worker starts with logging unconfigured
    return create_app(settings)


def _lifespan(settings: GatewaySettings, drain: Drain) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            engine = create_engine(settings.resolved_database_url())
            stack.push_async_callback(engine.dispose)
            await migrate(engine)
            nc = await nats.connect(servers=settings.nats_servers(), name=SERVICE_NAME, max_reconnect_attempts=-1)
            stack.push_async_callback(nc.drain)
            rtt = asyncio.create_task(
                sample_round_trip(
                    lambda: nc.rtt(timeout=5), gateway_metrics().nats_rtt, (nats.errors.Error, TimeoutError)
                )
            )
            stack.push_async_callback(_cancel, rtt)
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=_IDENTITY_TIMEOUT))
            # Forwarding to the tool-broker: long polls wait up to 30 s.
            app.state.tool_broker_http = await stack.enter_async_context(httpx.AsyncClient(timeout=_BROKER_TIMEOUT))
            bus = OrchestratorBus(nc, settings.subjects)
            await bus.start()
            stack.push_async_callback(bus.close)
            app.state.gateway = await _components(settings, engine, bus, nc, http, drain)
            stack.push_async_callback(app.state.gateway.limiter.settled)  # admitted requests' counts, before drain
            stack.push_async_callback(app.state.gateway.auth.keys.close)
            await CredentialResponder(nc, settings.subjects, app.state.gateway.auth).start()
            feed = UsageFeed(app.state.gateway.limiter, settings.subjects)
            await feed.start(nc)
            stack.push_async_callback(feed.stop)
            app.state.audit = AuditRecorder(engine, store_bodies=settings.audit_store_bodies)
            await app.state.audit.start()
            stack.push_async_callback(app.state.audit.stop)
            box = SecretBox.from_setting(settings.byok_keys.get_secret_value() if settings.byok_keys else None)
            app.state.byok = ByokStore(engine, box) if box is not None else None
            yield

    return lifespan


async def _components(
    settings: GatewaySettings,
    engine: AsyncEngine,
    bus: OrchestratorBus,
    nc: NatsClient,
    http: httpx.AsyncClient,
    drain: Drain,
) -> GatewayState:
    users = UserStore(engine, default_tier=settings.default_tier)
    keys = KeyStore(engine, users, cache_ttl=settings.auth_cache_ttl)
    await bus.on_key_revoked(keys)
    tiers = load_tiers(settings.tiers)
    limiter = RateLimiter(nc, settings.subjects, tiers)
    await limiter.ensure_stream()
    return GatewayState(
        settings=settings,
        engine=engine,
        auth=Authenticator(keys, users, _jwt_verifier(settings, http), admin_role=settings.admin_role),
        users=users,
        limiter=limiter,
        tier_names=frozenset(tiers),
        bus=bus,
        models=ModelCatalog(bus, ttl=settings.models_cache_ttl, timeout=_MODELS_TIMEOUT),
        relay=RelaySettings(
            idle_timeout=settings.orchestrator_idle_timeout, ping_interval=settings.client_ping_interval, drain=drain
        ),
    )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _jwt_verifier(settings: GatewaySettings, http: httpx.AsyncClient) -> JwtVerifier | None:
    if not settings.keycloak_url or not settings.keycloak_realm:
        return None
    issuer = f"{settings.keycloak_url.rstrip('/')}/realms/{settings.keycloak_realm}"
    return JwtVerifier(
        issuer=issuer, audience=settings.keycloak_audience, http=http, tier_claim=settings.jwt_tier_claim
    )
