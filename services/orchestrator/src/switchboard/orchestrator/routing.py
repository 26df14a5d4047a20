"""Model name -> (provider, upstream model): exact names first, then fnmatch patterns, longest first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from switchboard.orchestrator.route_config import RouteTarget

__all__ = ["ModelRouter", "Route", "is_pattern"]

_GLOB_CHARS = frozenset("*?[")


def is_pattern(name: str) -> bool:
    return any(char in _GLOB_CHARS for char in name)


@dataclass(frozen=True, slots=True)
class Route:
    """The resolution of one requested model name."""

    key: str
    """The model_mapping key that matched (the model name itself, or a pattern)."""
    provider: str
    upstream_model: str


class ModelRouter:
    def __init__(self, routes: Mapping[str, RouteTarget]) -> None:
        self._exact = {name: target for name, target in routes.items() if not is_pattern(name)}
        patterns = [(name, target) for name, target in routes.items() if is_pattern(name)]
        # sorted() is stable, so equally long patterns keep their config order.
        self._patterns = sorted(patterns, key=lambda item: -len(item[0]))

    def resolve(self, model: str) -> Route | None:
        """The route serving ``model``, or ``None`` when nothing matches (a 404 for the client)."""
        target = self._exact.get(model)
        key = model
        if target is None:
            match = next(((name, t) for name, t in self._patterns if fnmatchcase(model, name)), None)
            if match is None:
                return None
            key, target = match
        return Route(key=key, provider=target.provider, upstream_model=target.model or model)

    def explicit_names(self) -> list[str]:
        """Model names configured literally, in config order (what ``/v1/models`` always lists)."""
        return list(self._exact)

    def patterns(self) -> list[tuple[str, RouteTarget]]:
        return list(self._patterns)
