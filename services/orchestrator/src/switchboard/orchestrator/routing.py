"""Model name -> the ordered targets serving it: exact names first, then fnmatch patterns, longest first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from switchboard.orchestrator.route_config import RouteTarget

__all__ = ["ModelRouter", "Route", "Target", "is_pattern"]

_GLOB_CHARS = frozenset("*?[")


def is_pattern(name: str) -> bool:
    return any(char in _GLOB_CHARS for char in name)


@dataclass(frozen=True, slots=True)
class Target:
    provider: str
    upstream_model: str

    def label(self) -> str:
        return f"{self.provider}/{self.upstream_model}"


@dataclass(frozen=True, slots=True)
class Route:
    """The resolution of one requested model name."""

    key: str
    """The model_mapping key that matched (the model name itself, or a pattern)."""
    targets: tuple[Target, ...]
    """The first serves; the others are fallbacks, in order."""

    @property
    def provider(self) -> str:
        return self.targets[0].provider

    @property
    def upstream_model(self) -> str:
        return self.targets[0].upstream_model


class ModelRouter:
    def __init__(self, routes: Mapping[str, Sequence[RouteTarget]]) -> None:
        self._exact = {name: list(targets) for name, targets in routes.items() if not is_pattern(name)}
        patterns = [(name, list(targets)) for name, targets in routes.items() if is_pattern(name)]
        # sorted() is stable, so equally long patterns keep their config order.
        self._patterns = sorted(patterns, key=lambda item: -len(item[0]))

    def resolve(self, model: str) -> Route | None:
        """The route serving ``model``, or ``None`` when nothing matches (a 404 for the client)."""
        return self.resolve_exact(model) or self.resolve_pattern(model)

    def resolve_exact(self, model: str) -> Route | None:
        targets = self._exact.get(model)
        return None if targets is None else _route(model, model, targets)

    def resolve_pattern(self, model: str) -> Route | None:
        match = next(((name, t) for name, t in self._patterns if fnmatchcase(model, name)), None)
        return None if match is None else _route(match[0], model, match[1])

    def explicit_names(self) -> list[str]:
        """Model names configured literally, in config order (what ``/v1/models`` always lists)."""
        return list(self._exact)

    def patterns(self) -> list[tuple[str, RouteTarget]]:
        """Each pattern with its primary target."""
        return [(name, targets[0]) for name, targets in self._patterns]


def _route(key: str, model: str, targets: Sequence[RouteTarget]) -> Route:
    return Route(key=key, targets=tuple(Target(t.provider, t.model or model) for t in targets))
