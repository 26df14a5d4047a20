"""Blocks of Anthropic-executed tools: the ``server_tool_use`` call and the ``*_tool_result`` blocks it yields.

They appear in responses and are replayed in later requests. Result ``content`` differs per tool and tool
version (result lists, error objects), so it is kept as opaque JSON.
"""

from __future__ import annotations

from typing import Any, Literal

from .wire import CacheControl, WireModel

__all__ = [
    "BashCodeExecutionToolResultBlock",
    "Caller",
    "CodeExecutionToolResultBlock",
    "ServerToolUseBlock",
    "TextEditorCodeExecutionToolResultBlock",
    "ToolSearchToolResultBlock",
    "WebFetchToolResultBlock",
    "WebSearchToolResultBlock",
]


class Caller(WireModel):
    """Who issued a tool call: ``{"type": "direct"}`` or a code-execution tool (with its ``tool_id``)."""

    type: str
    tool_id: str | None = None


class ServerToolUseBlock(WireModel):
    type: Literal["server_tool_use"] = "server_tool_use"
    id: str
    name: str
    input: dict[str, Any]
    caller: Caller | None = None
    cache_control: CacheControl | None = None


class _ServerToolResultBlock(WireModel):
    type: str
    tool_use_id: str
    content: Any
    caller: Caller | None = None
    cache_control: CacheControl | None = None


class WebSearchToolResultBlock(_ServerToolResultBlock):
    type: Literal["web_search_tool_result"] = "web_search_tool_result"


class WebFetchToolResultBlock(_ServerToolResultBlock):
    type: Literal["web_fetch_tool_result"] = "web_fetch_tool_result"


class CodeExecutionToolResultBlock(_ServerToolResultBlock):
    type: Literal["code_execution_tool_result"] = "code_execution_tool_result"


class BashCodeExecutionToolResultBlock(_ServerToolResultBlock):
    type: Literal["bash_code_execution_tool_result"] = "bash_code_execution_tool_result"


class TextEditorCodeExecutionToolResultBlock(_ServerToolResultBlock):
    type: Literal["text_editor_code_execution_tool_result"] = "text_editor_code_execution_tool_result"


class ToolSearchToolResultBlock(_ServerToolResultBlock):
    type: Literal["tool_search_tool_result"] = "tool_search_tool_result"
