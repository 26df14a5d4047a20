"""The agents of the routing config (``agent_config``): model, prompt, tools and bounds of each server-side loop.

::

    agent_config:
      default: {max_iterations: 8, tool_timeout: 60, tools: ["*"]}
      coder:
        model: claude-sonnet-4-5
        system: "You can read the user's files with the mcp tools."
        aliases: [switchboard-coder]

A ``default`` agent exists even without a config (an entry named ``default`` replaces it). An alias is a model
name that selects its agent, so it must not also be a ``model_mapping`` key and its agent must name a ``model``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["DEFAULT_AGENT", "Agent", "AgentConfigError", "Agents", "parse_agents"]

DEFAULT_AGENT = "default"


class AgentConfigError(ValueError):
    """``agent_config`` cannot be used; the message says what to fix."""


class _AgentEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = Field(None, min_length=1)
    system: str | None = Field(None, min_length=1)
    max_iterations: int = Field(8, ge=1, le=50)
    tool_timeout: float = Field(60.0, gt=0)
    tools: list[str] = Field(default_factory=lambda: ["*"])
    aliases: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Agent:
    name: str
    model: str | None = None
    """The model the agent runs on (routed like any model); ``None`` keeps the request's model."""
    system: str | None = None
    """Prepended to the request's system prompt."""
    max_iterations: int = 8
    """Provider calls per request."""
    tool_timeout: float = 60.0
    """Seconds one tool call may take."""
    tools: tuple[str, ...] = ("*",)
    """fnmatch patterns over the namespaced tool names (``mcp__<server>__<tool>``) offered to the model."""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Agents:
    by_name: Mapping[str, Agent] = field(default_factory=lambda: {DEFAULT_AGENT: Agent(DEFAULT_AGENT)})
    by_alias: Mapping[str, Agent] = field(default_factory=dict)

    def named(self, name: str) -> Agent | None:
        return self.by_name.get(name)

    def for_model(self, model: str) -> Agent | None:
        """The agent ``model`` is an alias of, if any."""
        return self.by_alias.get(model)


def parse_agents(data: object, model_names: Collection[str]) -> Agents:
    """Validate a decoded ``agent_config`` (``None``: only the default agent); raises :class:`AgentConfigError`."""
    if data is None:
        return Agents()
    if not isinstance(data, dict):
        raise AgentConfigError("agent_config: must be a mapping of agent names to their settings")
    by_name = {DEFAULT_AGENT: Agent(DEFAULT_AGENT)}
    by_name.update((str(name), _agent(str(name), entry)) for name, entry in data.items())
    return Agents(by_name=by_name, by_alias=_aliases(by_name.values(), model_names))


def _agent(name: str, entry: object) -> Agent:
    if not name:
        raise AgentConfigError("agent_config: empty agent name")
    try:
        spec = _AgentEntry.model_validate({} if entry is None else entry)  # a bare ``coder:`` in YAML is all defaults
    except ValidationError as exc:
        raise AgentConfigError(f"agent_config[{name!r}]: {_describe(exc)}") from None
    for pattern in spec.tools:
        if not pattern:
            raise AgentConfigError(f"agent_config[{name!r}].tools: empty pattern")
    return Agent(
        name=name,
        model=spec.model,
        system=spec.system,
        max_iterations=spec.max_iterations,
        tool_timeout=spec.tool_timeout,
        tools=tuple(spec.tools),
        aliases=tuple(spec.aliases),
    )


def _aliases(agents: Collection[Agent], model_names: Collection[str]) -> dict[str, Agent]:
    by_alias: dict[str, Agent] = {}
    for agent in agents:
        for alias in agent.aliases:
            where = f"agent_config[{agent.name!r}].aliases: {alias!r}"
            if not alias:
                raise AgentConfigError(f"agent_config[{agent.name!r}].aliases: empty alias")
            if agent.model is None:
                raise AgentConfigError(f"{where}: an agent selected by a model alias needs its own 'model'")
            if alias in model_names:
                raise AgentConfigError(f"{where} is also a model_mapping key; use one or the other")
            if alias in by_alias:
                raise AgentConfigError(f"{where} is already an alias of agent {by_alias[alias].name!r}")
            by_alias[alias] = agent
    return by_alias


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors())
