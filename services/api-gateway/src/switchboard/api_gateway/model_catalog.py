"""The models the orchestrators' routes serve (and a caller's own providers), fetched over the bus, cached briefly.

The shared list is cached once for every caller without own keys; a caller's BYOK list is cached under their
user id and credentials, so one user's own models never show in another's list.
"""

from __future__ import annotations

import time
from typing import Any

from nats.errors import Error as NatsError

from switchboard.api_gateway.bus import OrchestratorBus
from switchboard.common.errors import NotFoundError, OverloadedError
from switchboard.common.events import ListModels

__all__ = ["ModelCatalog", "paginate"]

_SHARED = ListModels()
_MAX_CACHED_CALLERS = 1_000


class ModelCatalog:
    def __init__(self, bus: OrchestratorBus, *, ttl: float, timeout: float) -> None:
        self._bus = bus
        self._ttl = ttl
        self._timeout = timeout
        self._cache: dict[str, tuple[list[dict[str, Any]], float]] = {}
        """Request payload (``ListModels`` JSON: user id and credential ciphertexts) -> models, expiry."""

    async def all(self, query: ListModels = _SHARED) -> list[dict[str, Any]]:
        if not query.byok:
            query = _SHARED  # without own keys every caller gets the same list: one cache entry
        key = query.model_dump_json()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        try:
            models = await self._bus.list_models(query, self._timeout)
        except (NatsError, TimeoutError):
            raise OverloadedError("No orchestrator answered the model list request; try again.") from None
        if len(self._cache) >= _MAX_CACHED_CALLERS:
            self._cache = {entry: value for entry, value in self._cache.items() if value[1] > now}
        if len(self._cache) < _MAX_CACHED_CALLERS or query is _SHARED:
            self._cache[key] = (models, time.monotonic() + self._ttl)
        return models

    async def get(self, model_id: str, query: ListModels = _SHARED) -> dict[str, Any]:
        for model in await self.all(query):
            if model.get("id") == model_id:
                return model
        raise NotFoundError(f"model: {model_id}")

    async def page(
        self, *, limit: int, after_id: str | None, before_id: str | None, query: ListModels = _SHARED
    ) -> dict[str, Any]:
        return paginate(await self.all(query), limit=limit, after_id=after_id, before_id=before_id)


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
