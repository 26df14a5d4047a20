"""The model list a replica answers ``list_models`` with: configured names, plus what catch-all providers serve.

Explicit (non-pattern) route names always appear, in config order. A pattern route that keeps the requested
name (``"*": "anthropic"``) also contributes the provider's own models that the pattern would route there.
With LiteLLM configured, every model LiteLLM lists that no route claims is listed too (``listed_routes``).
"""

from __future__ import annotations

from collections.abc import Mapping

from switchboard.common.events import ModelsListed
from switchboard.orchestrator.agents.agent_config import Agents
from switchboard.orchestrator.providers.base import ModelInfo, Provider
from switchboard.orchestrator.routing import ModelRouter

__all__ = ["EPOCH", "agent_alias_models", "list_models"]

EPOCH = "1970-01-01T00:00:00Z"
"""``created_at`` when unknown, as Anthropic's docs suggest."""
_KNOWN_LIMITS = ("max_input_tokens", "max_tokens")


async def list_models(
    router: ModelRouter, providers: Mapping[str, Provider], listed_provider: Provider | None = None
) -> ModelsListed:
    models: list[ModelInfo] = []
    for name in router.explicit_names():
        route = router.resolve(name)
        provider = providers.get(route.provider) if route else None
        upstream = await _find(provider, route.upstream_model) if provider and route else None
        models.append(_explicit_info(name, upstream))
    listed = {model["id"] for model in models}
    for pattern, target in router.patterns():
        provider = providers.get(target.provider)
        if target.model is not None or provider is None:
            continue  # a pattern pinned to one upstream model would list names that all mean that model
        for info in await provider.list_models():
            model_id = info.get("id")
            route = router.resolve(model_id) if isinstance(model_id, str) else None
            if route is not None and route.key == pattern and model_id not in listed:
                listed.add(model_id)
                models.append(_normalised(info))
    for info in await listed_provider.list_models() if listed_provider else []:
        if info.get("id") not in listed and router.resolve(str(info.get("id"))) is None:
            listed.add(info["id"])
            models.append(_normalised(info))  # served as itself by listed_routes when nothing else matches
    return ModelsListed(models=models)


def agent_alias_models(agents: Agents) -> list[ModelInfo]:
    """Each agent alias as a model (``/model`` pickers show them), named for what it runs on."""
    return [
        {
            "id": alias,
            "type": "model",
            "display_name": f"{alias} (agent {agent.name} on {agent.model})",
            "created_at": EPOCH,
            "lifecycle": "active",
        }
        for alias, agent in agents.by_alias.items()
    ]


async def _find(provider: Provider, model_id: str) -> ModelInfo | None:
    return next((info for info in await provider.list_models() if info.get("id") == model_id), None)


def _explicit_info(name: str, upstream: ModelInfo | None) -> ModelInfo:
    info: ModelInfo = {"id": name, "type": "model", "display_name": name, "created_at": EPOCH, "lifecycle": "active"}
    if upstream is None:
        return info
    if upstream.get("id") == name and isinstance(upstream.get("display_name"), str):
        info["display_name"] = upstream["display_name"]  # an alias keeps its own name: it may mean another model
    if isinstance(upstream.get("created_at"), str):
        info["created_at"] = upstream["created_at"]
    info.update({field: upstream[field] for field in _KNOWN_LIMITS if isinstance(upstream.get(field), int)})
    return info


def _normalised(info: ModelInfo) -> ModelInfo:
    """The provider's ModelInfo, with the fields every client needs filled in when missing."""
    model_id = str(info["id"])
    return {
        "type": "model",
        "display_name": model_id,
        "created_at": EPOCH,
        "lifecycle": "active",
        **info,
    }
