"""Which route serves a model name: exact names, then patterns longest first, else nothing."""

from __future__ import annotations

from switchboard.orchestrator.route_config import RouteTarget
from switchboard.orchestrator.routing import ModelRouter, Route, Target

ROUTER = ModelRouter(
    {
        "*": [RouteTarget(provider="fallback")],
        "claude-*": [RouteTarget(provider="anthropic")],
        "claude-haiku-*": [RouteTarget(provider="cheap", model="haiku-pinned"), RouteTarget(provider="anthropic")],
        "claude-haiku-4-5": [RouteTarget(provider="exact")],
        "fast": [RouteTarget(provider="anthropic", model="claude-haiku-4-5-20251001")],
    }
)


def route(key: str, *targets: tuple[str, str]) -> Route:
    return Route(key, tuple(Target(provider, model) for provider, model in targets))


def test_exact_name_beats_every_pattern() -> None:
    assert ROUTER.resolve("claude-haiku-4-5") == route("claude-haiku-4-5", ("exact", "claude-haiku-4-5"))


def test_longer_pattern_wins_over_shorter() -> None:
    assert ROUTER.resolve("claude-haiku-9") == route(
        "claude-haiku-*", ("cheap", "haiku-pinned"), ("anthropic", "claude-haiku-9")
    )
    assert ROUTER.resolve("claude-opus-5") == route("claude-*", ("anthropic", "claude-opus-5"))
    assert ROUTER.resolve("gpt-9") == route("*", ("fallback", "gpt-9"))


def test_alias_maps_to_its_upstream_model() -> None:
    assert ROUTER.resolve("fast") == route("fast", ("anthropic", "claude-haiku-4-5-20251001"))


def test_no_match_without_catch_all() -> None:
    router = ModelRouter({"claude-*": [RouteTarget(provider="anthropic")]})
    assert router.resolve("Claude-sonnet") is None  # model ids are case-sensitive
    assert router.resolve("demo") is None


def test_explicit_names_keep_config_order() -> None:
    assert ROUTER.explicit_names() == ["claude-haiku-4-5", "fast"]
    assert [name for name, _ in ROUTER.patterns()] == ["claude-haiku-*", "claude-*", "*"]


def test_exact_and_pattern_resolution_are_separable() -> None:
    assert ROUTER.resolve_exact("claude-opus-5") is None
    assert ROUTER.resolve_pattern("claude-opus-5") == ROUTER.resolve("claude-opus-5")
    assert ROUTER.resolve_exact("fast") == ROUTER.resolve("fast")
