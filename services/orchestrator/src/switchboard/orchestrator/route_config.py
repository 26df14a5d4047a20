"""The routing config: which providers exist and which model names go to which of them.

Read from ``SWITCHBOARD_CONFIG`` (JSON, or YAML for any other suffix)::

    {
      "providers": {
        "anthropic": {"type": "anthropic", "base_url": "https://api.anthropic.com",
                      "api_key_env": "ANTHROPIC_UPSTREAM_API_KEY"},
        "demo": {"type": "demo"}
      },
      "model_mapping": {
        "claude-sonnet-4-5": "anthropic/claude-sonnet-4-5-20250929",
        "fast": {"provider": "anthropic", "model": "claude-haiku-4-5-20251001"},
        "demo": "demo/demo",
        "claude-*": "anthropic",
        "*": "anthropic"
      }
    }

Provider ``type`` is ``anthropic`` (native Messages API; ``base_url`` defaults to ``ANTHROPIC_UPSTREAM_URL``;
``api_key_env`` names the environment variable holding its key, none is sent without it) or ``demo`` (offline
scripted model). A mapping
value is ``"provider"`` (model name unchanged), ``"provider/upstream-model"`` or ``{"provider", "model"?}``.
Keys may be fnmatch patterns (``*``, ``claude-*``): exact names win over patterns, longer patterns first.

Without a file: provider ``anthropic`` from ``ANTHROPIC_UPSTREAM_URL`` / ``ANTHROPIC_UPSTREAM_API_KEY`` and
``"*": "anthropic"``. ``SWITCHBOARD_DEMO=1`` adds provider ``demo`` and route ``"demo"`` unless already mapped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from switchboard.orchestrator.settings import OrchestratorSettings, secret_from_env

__all__ = [
    "DEMO_PROVIDER",
    "ProviderSpec",
    "RouteConfigError",
    "RouteTarget",
    "RoutingTable",
    "load_routing_table",
    "parse_routing_config",
]

ProviderType = Literal["anthropic", "demo"]
DEFAULT_ANTHROPIC_URL = "https://api.anthropic.com"
DEMO_PROVIDER = "demo"


class RouteConfigError(ValueError):
    """The routing config cannot be used; the message says what to fix."""


class ProviderConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ProviderType
    base_url: str | None = Field(None, pattern=r"^https?://\S+$")
    api_key_env: str | None = Field(None, min_length=1)


class RouteTarget(BaseModel):
    """Where one model name goes; ``model=None`` keeps the requested name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str = Field(min_length=1)
    model: str | None = Field(None, min_length=1)


class RoutingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    providers: dict[str, ProviderConfig] = Field(min_length=1)
    model_mapping: dict[str, RouteTarget] = Field(min_length=1)

    @field_validator("model_mapping", mode="before")
    @classmethod
    def _expand_strings(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {name: _target_from_string(target) for name, target in value.items()}


def _target_from_string(target: Any) -> Any:
    if not isinstance(target, str):
        return target
    provider, _, model = target.partition("/")
    return {"provider": provider, "model": model or None}


@dataclass(frozen=True)
class ProviderSpec:
    """One provider, ready to build: its key already read from the environment."""

    name: str
    type: ProviderType
    base_url: str = DEFAULT_ANTHROPIC_URL
    api_key: SecretStr | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RoutingTable:
    providers: dict[str, ProviderSpec]
    routes: dict[str, RouteTarget]


def parse_routing_config(data: object, default_base_url: str = DEFAULT_ANTHROPIC_URL) -> RoutingTable:
    """Validate a decoded config document; raises :class:`RouteConfigError`."""
    try:
        config = RoutingConfig.model_validate(data)
    except ValidationError as exc:
        raise RouteConfigError(f"invalid routing config: {_describe(exc)}") from None
    for name, target in config.model_mapping.items():
        if not name:
            raise RouteConfigError("invalid routing config: empty model name in model_mapping")
        if target.provider not in config.providers:
            raise RouteConfigError(f"model_mapping[{name!r}] names unknown provider {target.provider!r}")
    providers = {
        name: ProviderSpec(
            name=name,
            type=spec.type,
            base_url=(spec.base_url or default_base_url).rstrip("/"),
            api_key=secret_from_env(spec.api_key_env) if spec.api_key_env else None,
        )
        for name, spec in config.providers.items()
    }
    return RoutingTable(providers=providers, routes=dict(config.model_mapping))


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors())


def read_config_file(path: Path) -> object:
    """Decode the file: JSON for ``.json``, YAML (a superset of JSON) otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RouteConfigError(f"cannot read routing config {path}: {exc.strerror}") from None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise RouteConfigError(f"routing config {path} is not valid {path.suffix or 'YAML'}: {exc}") from None


def default_routing_table(settings: OrchestratorSettings) -> RoutingTable:
    anthropic = ProviderSpec(
        name="anthropic",
        type="anthropic",
        base_url=settings.anthropic_upstream_url.rstrip("/"),
        api_key=settings.anthropic_upstream_api_key,
    )
    return RoutingTable(providers={"anthropic": anthropic}, routes={"*": RouteTarget(provider="anthropic")})


def with_demo(table: RoutingTable) -> RoutingTable:
    """Add the offline demo provider and its ``demo`` route, keeping whatever the config already says."""
    providers = {DEMO_PROVIDER: ProviderSpec(name=DEMO_PROVIDER, type="demo"), **table.providers}
    routes = {DEMO_PROVIDER: RouteTarget(provider=DEMO_PROVIDER), **table.routes}
    return RoutingTable(providers=providers, routes=routes)


def load_routing_table(settings: OrchestratorSettings) -> RoutingTable:
    """The table the settings describe (blocking file read: call it off the event loop)."""
    if settings.config_path is None:
        table = default_routing_table(settings)
    else:
        table = parse_routing_config(read_config_file(settings.config_path), settings.anthropic_upstream_url)
    return with_demo(table) if settings.demo else table
