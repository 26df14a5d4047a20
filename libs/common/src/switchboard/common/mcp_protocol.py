"""The connector protocol: what a user's MCP connector and the tool-broker say over WebSocket and HTTP.

WebSocket ``/api/mcp/ws/{user_id}`` carries JSON text messages with a ``type``. Client to server:
``register_tools``, ``tool_result``, ``ping``/``pong``. Server to client: ``tools_registered``, ``tool_call``,
``error``, ``ping``/``pong``. Polling connectors use ``POST /api/mcp/register``, ``/api/mcp/poll`` and
``/api/mcp/submit`` with the bodies below.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ConnectorMessage",
    "ErrorDetail",
    "ErrorMessage",
    "PingMessage",
    "PollRequest",
    "PollResponse",
    "PongMessage",
    "RegisterRequest",
    "RegisterTools",
    "SubmitRequest",
    "ToolCallMessage",
    "ToolDefinition",
    "ToolResult",
    "ToolResultMessage",
    "ToolsRegistered",
]

MAX_POLL_WAIT_SECONDS = 30.0


def _any_object() -> dict[str, object]:
    """The schema of a tool that takes any object (a tool registered by name only)."""
    return {"type": "object"}


class _Message(BaseModel):
    """A connector-protocol message (unknown fields ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, use_attribute_docstrings=True)


class ToolDefinition(_Message):
    """A tool as MCP describes it (``inputSchema`` camelCase on the wire, as in MCP's own ``tools/list``)."""

    name: str = Field(min_length=1, max_length=128)
    description: str = ""
    input_schema: dict[str, object] = Field(default_factory=_any_object, alias="inputSchema")


ToolSpec = str | ToolDefinition
"""A bare tool name (the seed's form: any input accepted) or a full definition."""


class ToolResult(_Message):
    """What a tool call produced: ``content`` on success (a string or Anthropic content blocks), else ``error``."""

    success: bool
    content: str | list[dict[str, object]] | None = None
    error: str | None = None


# --- client -> server ---------------------------------------------------------------------------------------
class RegisterTools(_Message):
    """Client → server: the tools this connection serves, for one MCP server."""

    type: Literal["register_tools"] = "register_tools"
    server_id: str = Field(default="default", min_length=1, max_length=64)
    tools: list[ToolSpec] = Field(default_factory=list)
    """Empty: adopt the tools last registered for ``server_id`` over HTTP."""


class ToolResultMessage(_Message):
    """Client → server: the answer to a ``tool_call``."""

    type: Literal["tool_result"] = "tool_result"
    call_id: str
    result: ToolResult


class PingMessage(_Message):
    """Either way: are you there? Answered with ``pong``."""

    type: Literal["ping"] = "ping"


class PongMessage(_Message):
    """Either way: the answer to ``ping``."""

    type: Literal["pong"] = "pong"


ConnectorMessage = Annotated[RegisterTools | ToolResultMessage | PingMessage | PongMessage, Field(discriminator="type")]
"""Any message a connector may send."""


# --- server -> client ---------------------------------------------------------------------------------------
class ToolsRegistered(_Message):
    """Server → client: registration accepted; ``connection_id`` names this connection in ``/api/mcp/status``."""

    type: Literal["tools_registered"] = "tools_registered"
    server_id: str
    connection_id: str
    tools: list[str]


class ToolCallMessage(_Message):
    """Server → client (and in ``pending_calls``): run this tool and answer with its ``call_id``."""

    type: Literal["tool_call"] = "tool_call"
    call_id: str
    tool: str
    input: dict[str, object] = Field(default_factory=dict)
    timestamp: str
    """When the call was made (ISO-8601, UTC)."""
    server_id: str = "default"
    deadline: str | None = None
    """After this instant (ISO-8601, UTC) nobody waits for the result any more."""


class ErrorDetail(_Message):
    """Anthropic-style error type and message."""

    type: str
    message: str


class ErrorMessage(_Message):
    """Server → client: a message was refused; the connection stays open."""

    type: Literal["error"] = "error"
    error: ErrorDetail
    call_id: str | None = None


# --- HTTP bodies ---------------------------------------------------------------------------------------------
class RegisterRequest(_Message):
    """``POST /api/mcp/register``."""

    user_id: str
    server_id: str = Field(default="default", min_length=1, max_length=64)
    tools: list[ToolSpec] = Field(default_factory=list)
    method: Literal["websocket", "polling"] = "websocket"


class PollRequest(_Message):
    """``POST /api/mcp/poll``."""

    user_id: str
    server_id: str | None = None
    """Only this server's calls; ``None``: every polling server of the user."""
    wait: float = Field(default=0.0, ge=0.0, le=MAX_POLL_WAIT_SECONDS)
    """Long poll: hold the request up to this many seconds until a call arrives."""
    max_calls: int = Field(default=10, ge=1, le=100)


class PollResponse(_Message):
    """Answer of ``POST /api/mcp/poll``."""

    pending_calls: list[ToolCallMessage] = Field(default_factory=list)


class SubmitRequest(_Message):
    """``POST /api/mcp/submit``: the result of a polled call."""

    call_id: str
    result: ToolResult
