"""Server-sent events of a streamed ``/v1/messages`` response, and their framing on the wire.

``StreamEvent`` and ``ContentBlockDelta`` accept types Anthropic adds later, so a pass-through can forward them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Tag

from .citations import Citation
from .content import ContentBlock
from .errors import ErrorResponse
from .responses import Container, Message, OutputTokensDetails, ServerToolUsage, StopDetails, StopReason
from .wire import UNKNOWN_TAG, WireModel, open_discriminator

__all__ = [
    "CitationsDelta",
    "ContentBlockDelta",
    "ContentBlockDeltaEvent",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "InputJsonDelta",
    "MessageDelta",
    "MessageDeltaEvent",
    "MessageDeltaUsage",
    "MessageStartEvent",
    "MessageStopEvent",
    "PingEvent",
    "SignatureDelta",
    "StreamEvent",
    "TextDelta",
    "ThinkingDelta",
    "UnknownDelta",
    "UnknownEvent",
    "format_sse",
]


class TextDelta(WireModel):
    type: Literal["text_delta"] = "text_delta"
    text: str


class InputJsonDelta(WireModel):
    """A fragment of a tool call's ``input``; the fragments of one block concatenate to a JSON object."""

    type: Literal["input_json_delta"] = "input_json_delta"
    partial_json: str


class ThinkingDelta(WireModel):
    type: Literal["thinking_delta"] = "thinking_delta"
    thinking: str


class SignatureDelta(WireModel):
    """The thinking block's signature, sent once just before its ``content_block_stop``."""

    type: Literal["signature_delta"] = "signature_delta"
    signature: str


class CitationsDelta(WireModel):
    type: Literal["citations_delta"] = "citations_delta"
    citation: Citation


class UnknownDelta(WireModel):
    """A delta type this version does not know, kept as sent."""

    type: str


_Deltas = (
    Annotated[TextDelta, Tag("text_delta")]
    | Annotated[InputJsonDelta, Tag("input_json_delta")]
    | Annotated[ThinkingDelta, Tag("thinking_delta")]
    | Annotated[SignatureDelta, Tag("signature_delta")]
    | Annotated[CitationsDelta, Tag("citations_delta")]
    | Annotated[UnknownDelta, Tag(UNKNOWN_TAG)]
)
ContentBlockDelta = Annotated[_Deltas, open_discriminator(_Deltas)]


class MessageStartEvent(WireModel):
    """First event: the message with empty ``content``, null ``stop_reason`` and the real input usage."""

    type: Literal["message_start"] = "message_start"
    message: Message


class ContentBlockStartEvent(WireModel):
    """Opens block ``index`` (0, 1, 2, … in order, never reused)."""

    type: Literal["content_block_start"] = "content_block_start"
    index: int
    content_block: ContentBlock


class ContentBlockDeltaEvent(WireModel):
    type: Literal["content_block_delta"] = "content_block_delta"
    index: int
    delta: ContentBlockDelta


class ContentBlockStopEvent(WireModel):
    type: Literal["content_block_stop"] = "content_block_stop"
    index: int


class MessageDelta(WireModel):
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    stop_details: StopDetails | None = None
    container: Container | None = None


class MessageDeltaUsage(WireModel):
    """Cumulative totals: each field present replaces the running value, never adds to it."""

    input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    output_tokens: int
    output_tokens_details: OutputTokensDetails | None = None
    server_tool_use: ServerToolUsage | None = None


class MessageDeltaEvent(WireModel):
    type: Literal["message_delta"] = "message_delta"
    delta: MessageDelta
    usage: MessageDeltaUsage


class MessageStopEvent(WireModel):
    """Last event of a successful stream; there is no ``[DONE]`` after it."""

    type: Literal["message_stop"] = "message_stop"


class PingEvent(WireModel):
    """Keep-alive; may appear anywhere in the stream."""

    type: Literal["ping"] = "ping"


class UnknownEvent(WireModel):
    """An event type this version does not know, kept as sent."""

    type: str


_Events = (
    Annotated[MessageStartEvent, Tag("message_start")]
    | Annotated[ContentBlockStartEvent, Tag("content_block_start")]
    | Annotated[ContentBlockDeltaEvent, Tag("content_block_delta")]
    | Annotated[ContentBlockStopEvent, Tag("content_block_stop")]
    | Annotated[MessageDeltaEvent, Tag("message_delta")]
    | Annotated[MessageStopEvent, Tag("message_stop")]
    | Annotated[PingEvent, Tag("ping")]
    | Annotated[ErrorResponse, Tag("error")]
    | Annotated[UnknownEvent, Tag(UNKNOWN_TAG)]
)
StreamEvent = Annotated[_Events, open_discriminator(_Events)]
"""The ``data`` of any event; ``error`` events have the shape of an error body."""


def format_sse(event: BaseModel | dict[str, Any]) -> bytes:
    """``event: <type>\\ndata: <one-line JSON>\\n\\n``: every event named, as the SDKs require."""
    payload = event.model_dump(mode="json", exclude_unset=True) if isinstance(event, BaseModel) else event
    name = payload.get("type")
    if not isinstance(name, str) or not name:
        raise ValueError("an SSE event needs a string 'type'")
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {data}\n\n".encode()
