"""Scripted turns of a model running a tool loop, for `[[fake:agent_calls=A,B]]` and `[[fake:agent_calls_forever=A]]`.

`agent_calls=A,B`: with k the number of assistant turns holding a `tool_use` so far, turn k (while k < 2) says
"Calling A." and calls the offered tool named `A` or ending in `__A` (input from `tool_input`, else `{}`), or
says "tool A not offered"; after the list it answers "Results: " and the text of every `tool_result` in the
conversation, in order, joined with " | " (errors as "ERROR: <text>"). `agent_calls_forever=A` calls A every turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .anthropic_directives import Directives
from .anthropic_wire import new_id

__all__ = ["agent_blocks"]


def agent_blocks(body: dict[str, Any], directives: Directives) -> list[dict[str, Any]] | None:
    """This turn's content blocks, or None when no agent directive is present."""
    messages = body.get("messages")
    turns = messages if isinstance(messages, list) else []
    if directives.agent_calls_forever is not None:
        name = directives.agent_calls_forever
    elif directives.agent_calls is not None:
        done = sum(1 for turn in turns if _is_tool_turn(turn))
        if done >= len(directives.agent_calls):
            return [_text("Results: " + " | ".join(_results(turns)))]
        name = directives.agent_calls[done]
    else:
        return None
    offered = _offered(body.get("tools"), name)
    if offered is None:
        return [_text(f"tool {name} not offered")]
    tool_input = directives.tool_input if directives.tool_input is not None else {}
    return [
        _text(f"Calling {name}."),
        {"type": "tool_use", "id": new_id("toolu"), "name": offered, "input": tool_input},
    ]


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _blocks(turn: Any) -> list[Any]:
    content = turn.get("content") if isinstance(turn, dict) else None
    return content if isinstance(content, list) else []


def _is_tool_turn(turn: Any) -> bool:
    if not isinstance(turn, dict) or turn.get("role") != "assistant":
        return False
    return any(isinstance(block, dict) and block.get("type") == "tool_use" for block in _blocks(turn))


def _offered(tools: Any, name: str) -> str | None:
    for tool in tools if isinstance(tools, list) else []:
        offered = tool.get("name") if isinstance(tool, dict) else None
        if isinstance(offered, str) and (offered == name or offered.endswith(f"__{name}")):
            return offered
    return None


def _results(turns: list[Any]) -> Iterator[str]:
    for turn in turns:
        for block in _blocks(turn):
            if isinstance(block, dict) and block.get("type") == "tool_result":
                text = _result_text(block.get("content"))
                yield f"ERROR: {text}" if block.get("is_error") else text


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return " ".join(
        str(part.get("text", "")) for part in content if isinstance(part, dict) and part.get("type") == "text"
    )
