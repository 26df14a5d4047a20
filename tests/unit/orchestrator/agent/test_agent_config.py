"""``agent_config`` in the routing config: defaults, every field, and the errors a bad entry gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.orchestrator.agents.agent_config import DEFAULT_AGENT, Agent, Agents
from switchboard.orchestrator.route_config import RouteConfigError, load_routing_table, parse_routing_config
from switchboard.orchestrator.settings import OrchestratorSettings

MAPPING = {"claude-*": "anthropic", "fast": "anthropic/claude-haiku-4-5"}


def agents_of(agent_config: Any) -> Agents:
    config = {"model_mapping": MAPPING, "agent_config": agent_config}
    return parse_routing_config(config, OrchestratorSettings.model_validate({})).agents


def config_error(agent_config: Any) -> str:
    with pytest.raises(RouteConfigError) as caught:
        agents_of(agent_config)
    return str(caught.value)


def test_without_agent_config_there_is_the_default_agent() -> None:
    table = parse_routing_config({"model_mapping": MAPPING}, OrchestratorSettings.model_validate({}))
    assert table.agents.named(DEFAULT_AGENT) == Agent(DEFAULT_AGENT)
    assert table.agents.named("coder") is None
    assert Agent(DEFAULT_AGENT).max_iterations == 8 and Agent(DEFAULT_AGENT).tools == ("*",)


def test_every_field_and_an_alias() -> None:
    agents = agents_of(
        {
            "coder": {
                "model": "claude-sonnet-4-5",
                "system": "Use the tools.",
                "max_iterations": 50,
                "tool_timeout": 2.5,
                "tools": ["mcp__fs__*"],
                "aliases": ["switchboard-coder", "sc"],
            }
        }
    )
    coder = Agent("coder", "claude-sonnet-4-5", "Use the tools.", 50, 2.5, ("mcp__fs__*",), ("switchboard-coder", "sc"))
    assert agents.named("coder") == coder
    assert agents.for_model("switchboard-coder") is agents.for_model("sc") == coder
    assert agents.for_model("claude-sonnet-4-5") is None
    assert agents.named(DEFAULT_AGENT) == Agent(DEFAULT_AGENT), "the built-in default stays"


def test_the_default_agent_can_be_overridden_and_a_bare_yaml_entry_is_all_defaults(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("model_mapping: {'*': anthropic}\nagent_config:\n  default: {max_iterations: 3}\n  plain:\n")
    agents = load_routing_table(OrchestratorSettings.model_validate({"config_path": path})).agents
    assert agents.named(DEFAULT_AGENT) == Agent(DEFAULT_AGENT, max_iterations=3)
    assert agents.named("plain") == Agent("plain")


def test_demo_mode_keeps_the_agents(tmp_path: Path) -> None:
    path = tmp_path / "routes.json"
    path.write_text('{"model_mapping": {"*": "anthropic"}, "agent_config": {"x": {}}}')
    table = load_routing_table(OrchestratorSettings.model_validate({"config_path": path, "demo": True}))
    assert table.agents.named("x") == Agent("x")
    assert "demo" in table.routes


@pytest.mark.parametrize(
    ("agent_config", "message"),
    [
        ({"a": {"max_iterations": 0}}, "agent_config['a']: max_iterations: Input should be greater than or equal to 1"),
        ({"a": {"max_iterations": 51}}, "agent_config['a']: max_iterations: Input should be less than or equal to 50"),
        ({"a": {"tool_timeout": 0}}, "agent_config['a']: tool_timeout: Input should be greater than 0"),
        ({"a": {"model": ""}}, "agent_config['a']: model: String should have at least 1 character"),
        ({"a": {"tool": ["*"]}}, "agent_config['a']: tool: Extra inputs are not permitted"),
        ({"a": {"tools": [""]}}, "agent_config['a'].tools: empty pattern"),
        ({"a": "fast"}, "agent_config['a']: <root>: Input should be a valid dictionary"),
        ({"": {}}, "agent_config: empty agent name"),
        ({"a": {"aliases": ["x"]}}, "agent_config['a'].aliases: 'x': an agent selected by a model alias needs"),
        ({"a": {"model": "m", "aliases": ["fast"]}}, "'fast' is also a model_mapping key"),
        (
            {"a": {"model": "m", "aliases": ["x"]}, "b": {"model": "m", "aliases": ["x"]}},
            "agent_config['b'].aliases: 'x' is already an alias of agent 'a'",
        ),
        (["default"], "agent_config: Input should be a valid dictionary"),
    ],
)
def test_bad_entries_say_what_to_fix(agent_config: Any, message: str) -> None:
    error = config_error(agent_config)
    assert error.startswith("invalid routing config: ")
    assert message in error
