"""Bus messages between orchestrators, tool-brokers and the gateway for users' MCP tools.

The same rules as ``switchboard.common.events`` apply: frozen models, commands in the imperative, facts in the
past tense, unknown fields ignored.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from switchboard.common.events import SCHEMA_VERSION, Envelope, utc_now

__all__ = [
    "CredentialVerified",
    "ExecuteToolCall",
    "ListTools",
    "McpTool",
    "ToolCallCompleted",
    "ToolsListed",
    "VerifyCredential",
]


def _any_object() -> dict[str, object]:
    """The schema of a tool that takes any object (a tool registered by name only)."""
    return {"type": "object"}


class McpTool(BaseModel):
    """One tool a user's MCP server offers, with the schema its input must satisfy."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    server_id: str
    """The connector's server id (``switchboard connect --server-id``), unique per user."""
    name: str
    """The tool's own name on its MCP server."""
    description: str = ""
    input_schema: dict[str, object] = Field(default_factory=_any_object)
    """JSON Schema of the tool's input (MCP ``inputSchema``); a call is checked against it before dispatch."""


class ListTools(BaseModel):
    """Request on ``Subjects.list_tools``: the tools of one user's registered MCP servers."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    schema_version: int = SCHEMA_VERSION
    user_id: str
    live_only: bool = True
    """Only servers with a live connector (or a polling registration) right now."""


class ToolsListed(BaseModel):
    """Reply to ``Subjects.list_tools``."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    schema_version: int = SCHEMA_VERSION
    tools: list[McpTool] = Field(default_factory=list)


class ExecuteToolCall(Envelope):
    """Command: run one tool call on one of the user's connectors. A request on ``Subjects.execute_tool_call``.

    Any tool-broker replica may take it; it validates ``input`` against the tool's schema and hands the call to
    a replica holding a live WebSocket connector for ``server_id`` or, for a polling server, to the durable
    queue ``Subjects.tool_queue``. The ``ToolCallCompleted`` goes to ``reply_subject``.
    """

    call_id: str
    """Unique per call; the orchestrator uses the model's ``tool_use`` id."""
    server_id: str
    tool_name: str
    """The tool's own name on its MCP server."""
    input: dict[str, object] = Field(default_factory=dict)
    timeout_s: float = 60.0
    """The caller stops waiting after this long; a broker never delivers a call past its deadline."""
    reply_subject: str = ""
    """Where the ``ToolCallCompleted`` goes; the broker that takes the request fills it from the NATS reply."""
    attempt: int = 1
    """Delivery attempt; a call whose connector dropped mid-call is redelivered once, to another connector."""
    excluded_connection: str | None = None
    """A connection that must not get the call (the one that dropped it)."""
    traceparent: str | None = None
    """W3C ``traceparent`` of the broker span that took the call: whichever replica later handles the connector's
    answer logs it, and sends it on, in the request's trace (the call's own message headers are gone by then)."""


class ToolCallCompleted(Envelope):
    """Fact: a tool call finished, successfully or not. Sent to ``ExecuteToolCall.reply_subject``.

    ``content`` holds Anthropic ``tool_result`` content blocks (``text``, ``image``); ``is_error`` results explain
    themselves in a text block (no connector, timeout, invalid input, the tool's own error).
    """

    call_id: str
    is_error: bool = False
    content: list[dict[str, object]] = Field(default_factory=list)
    connection_id: str | None = None
    """The connector that answered; ``None`` when the broker answered itself (an error)."""
    truncated: bool = False
    """The result was over the size cap and was cut (a note at the end says so)."""


class VerifyCredential(BaseModel):
    """Request on ``Subjects.verify_credential``: who owns this credential? Answered by any gateway replica.

    An API key travels only as its SHA-256 (which is what the gateway stores); a Keycloak JWT travels whole.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    schema_version: int = SCHEMA_VERSION
    api_key_sha256: str | None = None
    jwt: str | None = None


class CredentialVerified(BaseModel):
    """Reply to ``Subjects.verify_credential``: the owner, or ``valid=False`` with the reason."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    schema_version: int = SCHEMA_VERSION
    valid: bool
    user_id: str | None = None
    key_id: str | None = None
    scopes: list[str] = Field(default_factory=list)
    is_admin: bool = False
    reason: str | None = None
    """Why the credential was refused (safe to show the caller)."""
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
