"""``count_tokens`` in agent mode: count the prompt the agent's first call sends (its system prompt and the
user's MCP tools included), so a client sizing its context sees what the model will see."""

from __future__ import annotations

from switchboard.common.events import ExecuteRequest
from switchboard.orchestrator.agents.agent_config import Agent
from switchboard.orchestrator.agents.broker_client import ToolBroker
from switchboard.orchestrator.agents.conversation import Conversation
from switchboard.orchestrator.agents.selection import routed_model
from switchboard.orchestrator.agents.tool_catalog import ToolCatalog, client_tool_names
from switchboard.orchestrator.providers.request_json import body_object

__all__ = ["agent_count_body"]


async def agent_count_body(agent: Agent, request: ExecuteRequest, body: bytes, broker: ToolBroker) -> bytes:
    payload = body_object(body)
    tools = await broker.list_tools(request.request_id, request.user_id)
    catalog = ToolCatalog(tools, agent.tools, client_tool_names(payload))
    return Conversation(payload, agent, catalog, routed_model(request, agent)).counted()
