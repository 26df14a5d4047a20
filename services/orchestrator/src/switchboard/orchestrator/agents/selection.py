"""Whether a request runs in agent mode, and on which agent: the ``x-switchboard-agent`` header or a model alias."""

from __future__ import annotations

from switchboard.common.errors import InvalidRequestError
from switchboard.common.events import ExecuteRequest
from switchboard.orchestrator.agents.agent_config import Agent, Agents

__all__ = ["AGENT_HEADER", "routed_model", "select_agent"]

AGENT_HEADER = "x-switchboard-agent"


def select_agent(request: ExecuteRequest, agents: Agents) -> Agent | None:
    """The header's agent (an unknown name is the client's error), else the agent the model is an alias of."""
    name = next((value.strip() for key, value in request.headers.items() if key.lower() == AGENT_HEADER), "")
    # An empty value counts as absent: header templates often pass an unset variable through as "".
    if name:
        agent = agents.named(name)
        if agent is None:
            raise InvalidRequestError(f"{AGENT_HEADER}: unknown agent '{name}'")
        return agent
    return agents.for_model(request.model)


def routed_model(request: ExecuteRequest, agent: Agent | None) -> str:
    """The model name to route: the agent's own model when it names one, else the request's."""
    if agent is not None and agent.model is not None:
        return agent.model
    return request.model
