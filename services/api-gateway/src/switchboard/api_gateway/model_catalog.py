"""The models the orchestrators' routes serve, fetched over the bus and cached briefly."""

from __future__ import annotations

import time
from typing import Any

from nats.errors import Error as NatsError

from switchboard.api_gateway.bus import OrchestratorBus
from switchboard.common.errors import NotFoundError, OverloadedError

__all__ = ["ModelCatalog", "paginate"]


class ModelCatalog:
    def __init__(self, bus: OrchestratorBus, *, ttl: float, timeout: float) -> None:
        self._bus = bus
        self._ttl = ttl
        self._timeout = timeout
        self._models: list[dict[str, Any]] = []
        self._expires = 0.0

    async def all(self) -> list[dict[str, Any]]:
        if time.monotonic() < self._expires:
            return self._models
        try:
            self._models = await self._bus.list_models(self._timeout)
        except (NatsError, TimeoutError):
            raise OverloadedError("No orchestrator answered the model list request; try again.") from None
        self._expires = time.monotonic() + self._ttl
        return self._models

    async def get(self, model_id: str) -> dict[str, Any]:
        for model in await self.all():
            if model.get("id") == model_id:
                return model
        raise NotFoundError(f"model: {model_id}")

    async def page(self, *, limit: int, after_id: str | None, before_id: str | None) -> dict[str, Any]:
        return paginate(await self.all(), limit=limit, after_id=after_id, before_id=before_id)


def paginate(
    models: list[dict[str, Any]], *, limit: int, after_id: str | None, before_id: str | None
) -> dict[str, Any]:
    """Anthropic's list shape: ``data``, ``has_more``, ``first_id``, ``last_id``."""
    ids = [str(model.get("id")) for model in models]
    start, end = 0, len(models)
    if after_id is not None:
        start = ids.index(after_id) + 1 if after_id in ids else len(models)
    if before_id is not None:
        end = ids.index(before_id) if before_id in ids else 0
        start = max(start, end - limit)
    window = models[start:end][:limit]
    has_more = (start + len(window) < end) if before_id is None else start > 0
    return {
        "data": window,
        "has_more": has_more,
        "first_id": window[0]["id"] if window else None,
        "last_id": window[-1]["id"] if window else None,
    }
