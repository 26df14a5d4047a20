"""The provider request of each agent iteration: the client's body with the agent's model, prompt and MCP tools,
streamed, plus every tool round so far (the assistant's turn and a user turn of ``tool_result``s)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from switchboard.orchestrator.agents.agent_config import Agent
from switchboard.orchestrator.agents.tool_catalog import ToolCatalog
from switchboard.orchestrator.upstream_errors import dump_json

__all__ = ["Conversation"]


class Conversation:
    def __init__(self, payload: dict[str, Any], agent: Agent, catalog: ToolCatalog, model: str) -> None:
        body = copy.copy(payload)  # shallow: only top-level keys are replaced, the client's parts are shared
        body["model"] = model
        body["stream"] = True  # always: text then reaches a streaming client as the model writes it
        if catalog.definitions:
            client_tools = body.get("tools")
            body["tools"] = [*(client_tools if isinstance(client_tools, list) else []), *catalog.definitions]
        if agent.system is not None:
            body["system"] = _with_agent_system(body.get("system"), agent.system)
        messages = body.get("messages")
        body["messages"] = list(messages) if isinstance(messages, list) else []
        self._body = body

    def encoded(self) -> bytes:
        return dump_json(self._body).encode()

    def counted(self) -> bytes:
        """The body a ``count_tokens`` of the agent's first call sends: what the model will see, not streamed."""
        return dump_json({key: value for key, value in self._body.items() if key != "stream"}).encode()

    def add_round(self, blocks: Sequence[dict[str, Any]], results: Sequence[dict[str, Any]]) -> None:
        """The assistant's turn as it came (thinking and its signature included) and the tools' answers."""
        # The API refuses empty text blocks, which a model may emit right before a tool call.
        turn = [block for block in blocks if not (block.get("type") == "text" and not block.get("text"))]
        messages: list[Any] = self._body["messages"]
        last = messages[-1] if messages else None
        if isinstance(last, dict) and last.get("role") == "assistant":
            # The client prefilled the assistant's turn: the model continued it, so the two are one turn.
            messages[-1] = {"role": "assistant", "content": [*_blocks_of(last.get("content")), *turn]}
        else:
            messages.append({"role": "assistant", "content": turn})
        messages.append({"role": "user", "content": list(results)})
        self._relax_tool_choice()

    def _relax_tool_choice(self) -> None:
        """A forced tool choice (``any``, ``tool``) served its turn: forcing it again would loop to the bound."""
        choice = self._body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
            relaxed = {"type": "auto"}
            if "disable_parallel_tool_use" in choice:
                relaxed["disable_parallel_tool_use"] = choice["disable_parallel_tool_use"]
            self._body["tool_choice"] = relaxed


def _blocks_of(content: object) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content) if isinstance(content, list) else []


def _with_agent_system(system: object, agent_system: str) -> object:
    if isinstance(system, list):
        return [{"type": "text", "text": agent_system}, *system]
    if isinstance(system, str) and system:
        return f"{agent_system}\n\n{system}"
    return agent_system
