"""Bus messages: one envelope, commands in the imperative, facts in the past tense.

Every message is a frozen pydantic model serialised as JSON. Consumers ignore fields they do not know, so a
producer may add optional fields without bumping ``schema_version``; removing or re-typing a field does bump it.
``event_id`` doubles as the JetStream ``Nats-Msg-Id`` where the message goes through JetStream.

Messages on a request's path (``ExecuteRequest``, ``CancelRequest``, ``ExecuteToolCall``, ``CompletionRecorded``
and the gateway's queries) carry the sender's W3C ``traceparent`` (and ``tracestate``) as NATS headers, exactly
as on HTTP, so the receiver's span joins the request's trace; a message without them starts a trace of its own.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "ACCEPT_WINDOW_SECONDS",
    "SCHEMA_VERSION",
    "ApiKeyRevoked",
    "ByokCredential",
    "CancelRequest",
    "CompletionRecorded",
    "CompletionStatus",
    "Endpoint",
    "Envelope",
    "ExecuteRequest",
    "FrameKind",
    "ListModels",
    "ModelsListed",
    "StreamFrame",
    "ToolCallRecord",
    "utc_now",
]

SCHEMA_VERSION = 1


def utc_now() -> datetime:
    return datetime.now(UTC)


def _new_event_id() -> str:
    return uuid.uuid4().hex


class Envelope(BaseModel):
    """Fields every bus message carries."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    event_id: str = Field(default_factory=_new_event_id)
    """Unique per message; the JetStream ``Nats-Msg-Id`` (so a re-publish is dropped as a duplicate)."""
    schema_version: int = SCHEMA_VERSION
    """Bumped only when a field is removed or re-typed."""
    request_id: str
    """The gateway's ``req_…`` id of the client request this message belongs to."""
    user_id: str
    """The authenticated user the request is billed to."""
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
    """When the producer created the message (UTC)."""


Endpoint = Literal["messages", "count_tokens"]


class ExecuteRequest(Envelope):
    """Command: serve one Messages API call. Published by the gateway on ``Subjects.execute_request``.

    ``body`` is the client's JSON exactly as received, so the native path can forward it byte for byte. When the
    body is too large for one NATS message it is stored in the Object Store bucket ``Subjects.body_bucket``
    under ``body_object`` and ``body`` is empty.
    """

    key_id: str | None = None
    endpoint: Endpoint = "messages"
    model: str
    stream: bool = False
    api_version: str
    headers: dict[str, str] = Field(default_factory=dict)
    """Client headers to forward upstream (``anthropic-*`` and the like; never the client's credential)."""
    query: str = ""
    body: str = ""
    body_object: str | None = None
    reply_subject: str
    byok: dict[str, ByokCredential] = Field(default_factory=dict)
    """The caller's own provider keys by provider name; a route to one of them uses it instead of ours."""
    billing_account: str | None = None
    """The Lago subscription the user's usage is billed to, from the user's record (None: the default mapping)."""
    reply_protocol: Literal[1, 2] = 1
    """How the reply stream opens and closes (see ``StreamFrame``). 1: ``accepted`` first and ``end`` last, always.
    2 (what gateways send): ``accepted`` only when no other frame goes out within ``ACCEPT_WINDOW_SECONDS`` (50 ms),
    and no ``end`` after a final ``body`` or ``error``: two messages fewer on a fast non-streaming request."""


ACCEPT_WINDOW_SECONDS = 0.05
"""Reply protocol 2: an orchestrator that has sent nothing this long after taking a request sends ``accepted``."""


class ByokCredential(BaseModel):
    """A user's own provider key, still encrypted (Fernet token); only orchestrators hold the key to open it."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    ciphertext: str
    """The Fernet token of the API key (never the key itself: the bus is not a secret store)."""
    base_url: str | None = None
    """The user's endpoint for an OpenAI-compatible provider; ``None`` keeps the provider's own."""


class CancelRequest(Envelope):
    """Command: stop serving ``request_id`` (the client went away). Published on ``Subjects.cancel_request``.

    Orchestrators match the request by the last token of the subject, so the payload is informational.
    """

    reason: str = "client disconnected"


FrameKind = Literal["accepted", "heartbeat", "response_head", "sse", "body", "error", "end"]


class StreamFrame(Envelope):
    """One message of the reply stream an orchestrator sends to ``ExecuteRequest.reply_subject``.

    Order on the wire: ``accepted`` first; ``heartbeat`` whenever the orchestrator has had nothing else to say
    for a heartbeat interval; then either ``response_head`` followed by ``sse`` frames (streaming) or ``body``
    frames (non-streaming), or an ``error``; finally ``end``. Under ``ExecuteRequest.reply_protocol`` 2 the first
    frame of any kind stands for ``accepted`` (sent only if nothing else is ready within the accept window), and
    a final ``body`` or ``error`` stands for ``end``. ``seq`` counts from 0 without gaps. A payload
    too large for one NATS message is split over consecutive frames of the same kind, all but the last with
    ``more=True``.
    """

    seq: int
    kind: FrameKind
    status: int | None = None
    """HTTP status, on ``response_head``, ``body`` and ``error`` frames."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Upstream response headers the gateway may pass on (``retry-after``, ``x-should-retry``…)."""
    data: str = ""
    """``sse``: complete SSE events as text; ``body``: the JSON body; ``error``: an Anthropic error body."""
    more: bool = False


class ListModels(BaseModel):
    """Request on ``Subjects.list_models``: the models this caller may use (an empty payload: no own keys)."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    schema_version: int = SCHEMA_VERSION
    user_id: str | None = None
    """Who asks; ``None`` for the list every caller without own keys shares."""
    byok: dict[str, ByokCredential] = Field(default_factory=dict)
    """The caller's own provider keys (ciphertext): their own providers' models are listed too."""


class ModelsListed(BaseModel):
    """Reply to ``Subjects.list_models``: Anthropic ``ModelInfo`` objects, in display order."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    schema_version: int = SCHEMA_VERSION
    models: list[dict[str, object]]


class ToolCallRecord(BaseModel):
    """One MCP tool call an agent made, as recorded in ``CompletionRecorded.mcp_tool_calls``."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    server_id: str
    name: str
    """The tool's own name on its MCP server (not the namespaced name the model saw)."""
    duration_ms: float
    is_error: bool = False


CompletionStatus = Literal["succeeded", "failed", "cancelled"]


class CompletionRecorded(Envelope):
    """Fact: one request finished (in any way). Published to the usage stream; ``event_id`` is the Msg-Id."""

    key_id: str | None = None
    endpoint: Endpoint = "messages"
    requested_model: str
    provider: str | None = None
    """The provider that served the request (after any fallbacks)."""
    upstream_model: str | None = None
    targets_tried: list[str] = Field(default_factory=list)
    """Every ``provider/model`` tried, in order; more than one when fallbacks were used."""
    streamed: bool = False
    byok: bool = False
    """Served with the user's own provider key."""
    billing_account: str | None = None
    """The Lago subscription to bill (from the user's record when the request was made); None: the default."""
    status: CompletionStatus
    http_status: int
    """What the client received: 499 when it went away first; 200 for a stream that ended in an upstream
    ``event: error`` (``status`` is then ``failed``)."""
    error_type: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    usage_estimated: bool = False
    """The stream was cut before the provider's final count: output is estimated from what was streamed (about
    four characters a token), input from ``message_start`` or the request body."""
    stop_reason: str | None = None
    tool_use_count: int = 0
    tool_names: list[str] = Field(default_factory=list)
    started_at: AwareDatetime
    latency_ms: float
    time_to_first_token_ms: float | None = None
    agent: str | None = None
    """The agent (server-side tool loop) that served the request; ``None`` for a plain request."""
    agent_iterations: int = 0
    """Provider calls the agent made; token counts above are summed over all of them."""
    mcp_tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    """Every tool call the agent ran on the user's connectors, in order."""


class ApiKeyRevoked(BaseModel):
    """Fact: an API key was revoked; every gateway replica forgets it at once."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    schema_version: int = SCHEMA_VERSION
    key_id: str
    secret_hash: str
    """SHA-256 of the key, which is what replicas cache by (never the key itself)."""
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
