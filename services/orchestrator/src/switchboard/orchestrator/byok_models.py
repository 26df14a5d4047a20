"""The models of a caller's own providers (BYOK names no configured provider has), for their ``/v1/models``.

Each is that provider's own ``/v1/models`` fetched with the caller's key, ids prefixed ``"<provider>/"`` (the name
that routes there, see ``listed_routes.byok_route``). Best effort: a provider that fails is left out and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Container, Mapping

from switchboard.common.errors import SwitchboardError
from switchboard.common.events import ByokCredential
from switchboard.orchestrator.byok import ByokProviders
from switchboard.orchestrator.models_catalog import EPOCH
from switchboard.orchestrator.providers.base import ModelInfo
from switchboard.orchestrator.routing import ModelRouter

__all__ = ["own_models"]

logger = logging.getLogger(__name__)


async def own_models(
    byok: ByokProviders, credentials: Mapping[str, ByokCredential], configured: Container[str], router: ModelRouter
) -> list[ModelInfo]:
    """The own providers' models, in the order of ``credentials``; names configured exactly are left out."""
    own = [(name, credential) for name, credential in credentials.items() if name not in configured]
    lists = await asyncio.gather(*(_provider_models(byok, name, credential) for name, credential in own))
    # A configured route matching the full name wins (execution), so listing it here would be a lie.
    return [info for models in lists for info in models if router.resolve_exact(str(info["id"])) is None]


async def _provider_models(byok: ByokProviders, name: str, credential: ByokCredential) -> list[ModelInfo]:
    try:
        provider = await byok.provider_for(name, credential)
        models = await provider.list_models() if provider is not None else []
    except SwitchboardError as exc:
        logger.warning("listing the models of a user's own provider %s failed: %s", name, type(exc).__name__)
        return []
    return [_prefixed(name, info) for info in models]


def _prefixed(name: str, info: ModelInfo) -> ModelInfo:
    model_id = str(info["id"])
    return {
        "type": "model",
        "created_at": EPOCH,
        "lifecycle": "active",
        **info,
        "id": f"{name}/{model_id}",
        "display_name": f"{name}/{info.get('display_name') or model_id}",
    }
