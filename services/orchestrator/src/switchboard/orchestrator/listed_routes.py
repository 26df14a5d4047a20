"""Routes that come from outside the routing config: a provider's own model list, or the caller's own provider.

With LiteLLM configured, any model it lists is served. A caller who brought a key for a provider name that is not
configured (BYOK) has ``"<that name>/<model>"`` served by their own OpenAI-compatible endpoint. Precedence (see
``execution``): exact configured names, then the caller's own provider, then configured patterns, then LiteLLM.
"""

from __future__ import annotations

from collections.abc import Container, Mapping

from switchboard.common.events import ByokCredential
from switchboard.orchestrator.providers.base import Provider
from switchboard.orchestrator.routing import Route, Target

__all__ = ["byok_route", "listed_route"]


async def listed_route(provider: Provider | None, model: str) -> Route | None:
    """A route to ``provider`` for ``model`` if the provider lists that model (its list is cached)."""
    if provider is None:
        return None
    listed = {info.get("id") for info in await provider.list_models()}
    return Route(key=model, targets=(Target(provider.name, model),)) if model in listed else None


def byok_route(model: str, byok: Mapping[str, ByokCredential], configured: Container[str]) -> Route | None:
    """``"<provider>/<model>"`` to the caller's own ``provider`` when it is one of their keys but not configured."""
    provider, _, upstream_model = model.partition("/")
    if not upstream_model or provider not in byok or provider in configured:
        return None
    return Route(key=model, targets=(Target(provider, upstream_model),))
