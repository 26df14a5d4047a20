"""The routing config: which providers exist and which model names go to which of them, with fallbacks.

Read from ``SWITCHBOARD_CONFIG`` (JSON, or YAML for any other suffix)::

    {
      "providers": {
        "openrouter": {"type": "openai", "base_url": "https://openrouter.ai/api/v1",
                       "api_key_env": "OPENROUTER_API_KEY", "max_output_tokens": 16384}
      },
      "model_mapping": {
        "claude-3-5-sonnet-20241022": "gpt-4",
        "claude-sonnet-4-5": "anthropic/claude-sonnet-4-5-20250929",
        "claude-*-haiku-*": ["litellm/gpt-4o-mini", "anthropic/claude-haiku-4-5"],
        "fast": {"provider": "openrouter", "model": "qwen/qwen3-coder", "fallbacks": ["litellm/gpt-4o"]},
        "*": "anthropic"
      }
    }

Built-in providers, always present (a config entry of the same name replaces one): ``anthropic`` (native
Messages API at ``ANTHROPIC_UPSTREAM_URL`` with ``ANTHROPIC_UPSTREAM_API_KEY``), ``litellm`` (OpenAI-compatible at
``LITELLM_URL`` with ``LITELLM_API_KEY``) and, with ``SWITCHBOARD_DEMO=1``, ``demo``. Provider ``type`` is
``anthropic``, ``openai`` (any OpenAI-compatible Chat Completions server; a ``base_url`` ending in ``/v1`` gets
``/chat/completions`` appended, any other gets ``/v1/chat/completions``) or ``demo``; ``api_key_env`` names the
environment variable holding its key (none is sent without it); ``max_output_tokens`` clamps ``max_tokens``;
``read_timeout`` (seconds) overrides ``SWITCHBOARD_UPSTREAM_READ_TIMEOUT`` for that provider.

A target is ``"provider"`` (model name unchanged), ``"provider/model"``, ``{"provider", "model"?}``, or — when the
text before any ``/`` is not a provider name, as in the seed format ``{"claude-3-5-sonnet-20241022": "gpt-4"}`` or
LiteLLM's ``"openai/gpt-4o"`` — a model served by ``litellm``. A mapping value is one target, a list of targets
(the first serves, the rest are fallbacks tried in order on 429, 5xx, timeout or connection failure before the
first byte), or an object with ``fallbacks``. Keys may be fnmatch patterns: exact names win, longer patterns first.

``agent_config`` (optional) defines the agents of agent mode: see :mod:`switchboard.orchestrator.agents.agent_config`.

Without a file: ``"*"`` goes to ``litellm`` if ``LITELLM_URL`` is set, else to ``anthropic``. ``SWITCHBOARD_DEMO=1``
adds route ``"demo"`` unless already mapped.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from switchboard.orchestrator.agents.agent_config import AgentConfigError, Agents, parse_agents
from switchboard.orchestrator.settings import OrchestratorSettings, secret_from_env

__all__ = [
    "DEMO_PROVIDER",
    "LITELLM_PROVIDER",
    "ProviderSpec",
    "RouteConfigError",
    "RouteTarget",
    "RoutingTable",
    "load_routing_table",
    "parse_routing_config",
]

ProviderType = Literal["anthropic", "openai", "demo"]
DEFAULT_ANTHROPIC_URL = "https://api.anthropic.com"
ANTHROPIC_PROVIDER = "anthropic"
LITELLM_PROVIDER = "litellm"
DEMO_PROVIDER = "demo"


class RouteConfigError(ValueError):
    """The routing config cannot be used; the message says what to fix."""


class ProviderConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ProviderType
    base_url: str | None = Field(None, pattern=r"^https?://\S+$")
    api_key_env: str | None = Field(None, min_length=1)
    max_output_tokens: int | None = Field(None, ge=1)
    read_timeout: float | None = Field(None, gt=0)


class RouteTarget(BaseModel):
    """One place a model name can be served; ``model=None`` keeps the requested name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str = Field(min_length=1)
    model: str | None = Field(None, min_length=1)


class RoutingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    model_mapping: dict[str, Any] = Field(min_length=1)
    agent_config: dict[str, Any] | None = None


@dataclass(frozen=True)
class ProviderSpec:
    """One provider, ready to build: its key already read from the environment."""

    name: str
    type: ProviderType
    base_url: str = DEFAULT_ANTHROPIC_URL
    api_key: SecretStr | None = field(default=None, repr=False)
    max_output_tokens: int | None = None
    read_timeout: float | None = None
    """Seconds this provider may stay silent; unset: SWITCHBOARD_UPSTREAM_READ_TIMEOUT."""

    def timeout(self, default: aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
        if self.read_timeout is None:
            return default
        return aiohttp.ClientTimeout(
            total=default.total, connect=default.connect, sock_connect=default.sock_connect, sock_read=self.read_timeout
        )


@dataclass(frozen=True)
class RoutingTable:
    providers: dict[str, ProviderSpec]
    routes: dict[str, list[RouteTarget]]
    """Model name or pattern -> targets in the order they are tried."""
    agents: Agents = field(default_factory=Agents)


def builtin_providers(settings: OrchestratorSettings) -> dict[str, ProviderSpec]:
    providers = {
        ANTHROPIC_PROVIDER: ProviderSpec(
            ANTHROPIC_PROVIDER, "anthropic", settings.anthropic_upstream_url.rstrip("/"),
            settings.anthropic_upstream_api_key,
        ),
        LITELLM_PROVIDER: ProviderSpec(
            LITELLM_PROVIDER, "openai", settings.litellm_base_url, settings.litellm_api_key
        ),
    }  # fmt: skip
    if settings.demo:
        providers[DEMO_PROVIDER] = ProviderSpec(DEMO_PROVIDER, "demo")
    return providers


def parse_routing_config(data: object, settings: OrchestratorSettings) -> RoutingTable:
    """Validate a decoded config document; raises :class:`RouteConfigError`."""
    try:
        config = RoutingConfig.model_validate(data)
    except ValidationError as exc:
        raise RouteConfigError(f"invalid routing config: {_describe(exc)}") from None
    providers = {**builtin_providers(settings), **_configured(config, settings)}
    routes: dict[str, list[RouteTarget]] = {}
    for name, value in config.model_mapping.items():
        if not name:
            raise RouteConfigError("invalid routing config: empty model name in model_mapping")
        routes[name] = _targets(name, value, providers)
    try:
        agents = parse_agents(config.agent_config, routes.keys())
    except AgentConfigError as exc:
        raise RouteConfigError(f"invalid routing config: {exc}") from None
    return RoutingTable(providers=providers, routes=routes, agents=agents)


def _configured(config: RoutingConfig, settings: OrchestratorSettings) -> dict[str, ProviderSpec]:
    default_urls = {"anthropic": settings.anthropic_upstream_url, "openai": settings.litellm_base_url}
    return {
        name: ProviderSpec(
            name=name,
            type=spec.type,
            base_url=(spec.base_url or default_urls.get(spec.type, DEFAULT_ANTHROPIC_URL)).rstrip("/"),
            api_key=secret_from_env(spec.api_key_env) if spec.api_key_env else None,
            max_output_tokens=spec.max_output_tokens,
            read_timeout=spec.read_timeout,
        )
        for name, spec in config.providers.items()
    }


def _targets(name: str, value: object, providers: dict[str, ProviderSpec]) -> list[RouteTarget]:
    if isinstance(value, dict) and "fallbacks" in value:
        rest = value["fallbacks"]
        primary = {key: item for key, item in value.items() if key != "fallbacks"}
        values = [primary, *(rest if isinstance(rest, list) else [rest])]
    else:
        values = value if isinstance(value, list) else [value]
    if not values:
        raise RouteConfigError(f"invalid routing config: model_mapping[{name!r}] has no target")
    return [_target(name, item, providers) for item in values]


def _target(name: str, value: object, providers: dict[str, ProviderSpec]) -> RouteTarget:
    if isinstance(value, str):
        provider, _, model = value.partition("/")
        if provider in providers:
            return RouteTarget(provider=provider, model=model or None)
        return RouteTarget(provider=LITELLM_PROVIDER, model=value)  # a LiteLLM model name (seed format)
    try:
        target = RouteTarget.model_validate(value)
    except ValidationError as exc:
        raise RouteConfigError(f"invalid routing config: model_mapping[{name!r}]: {_describe(exc)}") from None
    if target.provider not in providers:
        raise RouteConfigError(f"model_mapping[{name!r}] names unknown provider {target.provider!r}")
    return target


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
    default = LITELLM_PROVIDER if settings.litellm_configured else ANTHROPIC_PROVIDER
    return RoutingTable(providers=builtin_providers(settings), routes={"*": [RouteTarget(provider=default)]})


def with_demo(table: RoutingTable) -> RoutingTable:
    """Add the ``demo`` route, keeping whatever the config already says."""
    return dataclasses.replace(table, routes={DEMO_PROVIDER: [RouteTarget(provider=DEMO_PROVIDER)], **table.routes})


def load_routing_table(settings: OrchestratorSettings) -> RoutingTable:
    """The table the settings describe (blocking file read: call it off the event loop)."""
    if settings.config_path is None:
        table = default_routing_table(settings)
    else:
        table = parse_routing_config(read_config_file(settings.config_path), settings)
    return with_demo(table) if settings.demo else table
