"""Agent mode is chosen by the ``x-switchboard-agent`` header or by a model alias; the header wins."""

from __future__ import annotations

import pytest

from switchboard.common.errors import InvalidRequestError
from switchboard.common.events import ExecuteRequest
from switchboard.orchestrator.agents.agent_config import DEFAULT_AGENT, Agent, Agents
from switchboard.orchestrator.agents.selection import routed_model, select_agent

CODER = Agent("coder", model="claude-sonnet-4-5", aliases=("switchboard-coder",))
AGENTS = Agents(by_name={DEFAULT_AGENT: Agent(DEFAULT_AGENT), "coder": CODER}, by_alias={"switchboard-coder": CODER})


def request(model: str = "claude-haiku-4-5", **headers: str) -> ExecuteRequest:
    return ExecuteRequest(
        request_id="req_1", user_id="u", model=model, api_version="2023-06-01", headers=headers, reply_subject="r"
    )


def test_a_plain_request_is_not_in_agent_mode() -> None:
    plain = request()
    assert select_agent(plain, AGENTS) is None
    assert routed_model(plain, None) == "claude-haiku-4-5"


def test_the_header_names_the_agent() -> None:
    chosen = select_agent(request(**{"x-switchboard-agent": " default "}), AGENTS)
    assert chosen == Agent(DEFAULT_AGENT)
    assert routed_model(request(), chosen) == "claude-haiku-4-5", "an agent without a model keeps the request's"


def test_an_alias_selects_its_agent_and_its_model() -> None:
    aliased = request("switchboard-coder")
    assert select_agent(aliased, AGENTS) is CODER
    assert routed_model(aliased, CODER) == "claude-sonnet-4-5"


def test_the_header_beats_the_alias() -> None:
    both = request("switchboard-coder", **{"X-Switchboard-Agent": "default"})
    assert select_agent(both, AGENTS) == Agent(DEFAULT_AGENT)


def test_an_unknown_agent_is_the_clients_error() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        select_agent(request(**{"x-switchboard-agent": "nope"}), AGENTS)
    assert caught.value.message == "x-switchboard-agent: unknown agent 'nope'"
    assert caught.value.status_code == 400


def test_an_empty_header_counts_as_absent() -> None:
    assert select_agent(request(**{"x-switchboard-agent": " "}), AGENTS) is None
