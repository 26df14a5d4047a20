"""Anthropic ``tools`` and ``tool_choice`` → OpenAI ``tools``, ``tool_choice`` and ``parallel_tool_calls``.

Custom tools become functions. Anthropic server tools (web search, code execution, text editor, …) run at
Anthropic only, so asking for one is rejected by name rather than quietly left out. Tool-definition fields with no
OpenAI meaning (``cache_control``, ``defer_loading``, ``input_examples``, ``eager_input_streaming``,
``allowed_callers``) are not carried: a deferred tool is simply offered up front.
"""

from __future__ import annotations

from typing import Any

from switchboard.common.errors import InvalidRequestError

from .request_blocks import Part, require_str

__all__ = ["tool_fields"]

_CHOICES = {"auto": "auto", "any": "required", "none": "none"}
_EMPTY_SCHEMA: Part = {"type": "object", "properties": {}}


def tool_fields(body: dict[str, Any], *, model: str) -> Part:
    """The OpenAI tool fields; none at all without tools, since OpenAI rejects a lone ``tool_choice`` (P33)."""
    tools = body.get("tools")
    if tools is None or tools == []:
        return {}
    if not isinstance(tools, list):
        raise InvalidRequestError("tools: Input should be a valid list")
    fields: Part = {"tools": [_function(tool, f"tools.{index}", model) for index, tool in enumerate(tools)]}
    fields.update(_tool_choice(body.get("tool_choice")))
    return fields


def _function(tool: object, path: str, model: str) -> Part:
    if not isinstance(tool, dict):
        raise InvalidRequestError(f"{path}: Input should be a valid dictionary")
    kind = tool.get("type")
    if kind not in (None, "custom"):
        name = tool.get("name") or kind
        raise InvalidRequestError(f"{path}: server tool {name} ({kind}) is not available for model {model}")
    function: Part = {"name": require_str(tool, "name", path)}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    schema = tool.get("input_schema")
    function["parameters"] = schema if isinstance(schema, dict) else dict(_EMPTY_SCHEMA)
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _tool_choice(choice: object) -> Part:
    if choice is None:
        return {}
    if not isinstance(choice, dict):
        raise InvalidRequestError("tool_choice: Input should be a valid dictionary")
    kind = choice.get("type")
    value: str | Part
    if kind == "tool":
        value = {"type": "function", "function": {"name": require_str(choice, "name", "tool_choice")}}
    elif isinstance(kind, str) and kind in _CHOICES:
        value = _CHOICES[kind]
    else:
        raise InvalidRequestError(f"tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none', not {kind!r}")
    fields: Part = {"tool_choice": value}
    if choice.get("disable_parallel_tool_use") is True:
        fields["parallel_tool_calls"] = False  # P34
    return fields
