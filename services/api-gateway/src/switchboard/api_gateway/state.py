"""What the gateway's lifespan builds once and every route shares (connections, pools, caches)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.api_gateway.auth import Authenticator
from switchboard.api_gateway.bus import OrchestratorBus
from switchboard.api_gateway.keys.users import UserStore
from switchboard.api_gateway.model_catalog import ModelCatalog
from switchboard.api_gateway.ratelimit.limiter import RateLimiter
from switchboard.api_gateway.relay import RelaySettings
from switchboard.api_gateway.settings import GatewaySettings

__all__ = ["GatewayState", "gateway_state"]


@dataclass(frozen=True, slots=True)
class GatewayState:
    settings: GatewaySettings
    engine: AsyncEngine
    auth: Authenticator
    users: UserStore
    limiter: RateLimiter
    tier_names: frozenset[str]
    bus: OrchestratorBus
    models: ModelCatalog
    relay: RelaySettings


def gateway_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state
