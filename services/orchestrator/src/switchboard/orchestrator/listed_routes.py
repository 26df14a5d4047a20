"""Routes that come from a provider's own model list: with LiteLLM configured, any model it lists is served.

The routing config is consulted first; only a name no configured route matches falls through to here.
"""

from __future__ import annotations

from switchboard.orchestrator.providers.base import Provider
from switchboard.orchestrator.routing import Route, Target

__all__ = ["listed_route"]


async def listed_route(provider: Provider | None, model: str) -> Route | None:
    """A route to ``provider`` for ``model`` if the provider lists that model (its list is cached)."""
    if provider is None:
        return None
    listed = {info.get("id") for info in await provider.list_models()}
    return Route(key=model, targets=(Target(provider.name, model),)) if model in listed else None
