"""Tool calls of a fake OpenAI reply, and how their `delta.tool_calls` fragments are cut up and ordered.

The orderings reproduce what real OpenAI-compatible servers do and what translating proxies get wrong:
small or awkward argument fragments (inside strings, between a backslash and the escaped character,
inside `\\uXXXX`), parallel calls interleaved, or all arguments arriving in one fragment at the end.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from .openai_directives import DirectiveError, Directives
from .openai_wire import new_id

__all__ = ["ToolCall", "awkward_pieces", "plan_tool_calls", "tool_call_fragments"]

_CHUNK = 7
_AWKWARD_SIZES = (2, 1, 3)


@dataclass(frozen=True)
class ToolCall:
    """`call_id` is None with `no_tool_ids`; `arguments` is the JSON text as the model emits it."""

    call_id: str | None
    name: str
    arguments: str

    def message_json(self) -> dict[str, Any]:
        """The call as it appears in a non-streaming `message.tool_calls`."""
        call: dict[str, Any] = {"id": self.call_id} if self.call_id is not None else {}
        return {**call, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


def plan_tool_calls(body: dict[str, Any], directives: Directives) -> tuple[ToolCall, ...]:
    """One call for each of the first `tool_calls` tools of the request, in `tools` order."""
    if not directives.tool_calls:
        return ()
    names = _tool_names(body.get("tools"))
    if len(names) < directives.tool_calls:
        raise DirectiveError(f"tool_calls={directives.tool_calls} needs at least that many tools, got {len(names)}")
    calls = []
    for index, name in enumerate(names[: directives.tool_calls]):
        arguments = directives.tool_args if directives.tool_args is not None else {"location": "Paris", "i": index}
        call_id = None if directives.no_tool_ids else new_id("call")
        calls.append(ToolCall(call_id, name, json.dumps(arguments)))
    return tuple(calls)


def tool_call_fragments(calls: tuple[ToolCall, ...], directives: Directives) -> list[dict[str, Any]]:
    """Every `delta.tool_calls[0]` object of the stream, in order; each carries its call's `index`."""
    heads = [_head(index, call) for index, call in enumerate(calls)]
    if directives.args_at_end:
        return heads + [_arguments(index, call.arguments) for index, call in enumerate(calls)]
    per_call = []
    for index, (head, call) in enumerate(zip(heads, calls, strict=True)):
        pieces = awkward_pieces(call.arguments) if directives.split_awkward else _chunks(call.arguments)
        per_call.append([head] + [_arguments(index, piece) for piece in pieces])
    if not directives.interleave:
        return [fragment for fragments in per_call for fragment in fragments]
    rounds = itertools.zip_longest(*per_call)
    return [fragment for round_ in rounds for fragment in round_ if fragment is not None]


def awkward_pieces(text: str) -> list[str]:
    """Pieces of 1-3 characters that always cut right after a backslash and inside every `\\uXXXX` escape."""
    cuts = set()
    index = 0
    while index < len(text):
        if text[index] == "\\":
            cuts.add(index + 1)
            if text.startswith("u", index + 1):
                cuts.add(index + 4)
                index += 6
                continue
            index += 2
        else:
            index += 1
    pieces: list[str] = []
    position = 0
    for size in itertools.cycle(_AWKWARD_SIZES):
        if position >= len(text):
            break
        end = min(position + size, len(text))
        end = min((cut for cut in cuts if position < cut < end), default=end)
        pieces.append(text[position:end])
        position = end
    return pieces


def _tool_names(tools: Any) -> list[str]:
    if not isinstance(tools, list):
        return []
    names = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names


def _head(index: int, call: ToolCall) -> dict[str, Any]:
    """A call's first fragment: the only one with its id and name, arguments still empty."""
    head: dict[str, Any] = {"index": index}
    if call.call_id is not None:
        head["id"] = call.call_id
    return {**head, "type": "function", "function": {"name": call.name, "arguments": ""}}


def _arguments(index: int, piece: str) -> dict[str, Any]:
    return {"index": index, "function": {"arguments": piece}}


def _chunks(text: str) -> list[str]:
    return [text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK)]
