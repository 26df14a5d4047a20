"""Response bodies of ``POST /v1/messages`` (``Message`` with its ``Usage``) and of ``count_tokens``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal, TypeAlias

from .content import ContentBlock
from .wire import WireModel

__all__ = [
    "CacheCreation",
    "Container",
    "Message",
    "MessageTokensCount",
    "OutputTokensDetails",
    "ServerToolUsage",
    "StopDetails",
    "StopReason",
    "Usage",
]

StopReason: TypeAlias = (
    Literal[
        "end_turn",
        "max_tokens",
        "stop_sequence",
        "tool_use",
        "pause_turn",
        "refusal",
        "model_context_window_exceeded",
    ]
    | str
)
ServiceTier: TypeAlias = Literal["standard", "priority", "batch"] | str


class CacheCreation(WireModel):
    """Tokens written to the prompt cache, by time to live."""

    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class ServerToolUsage(WireModel):
    web_search_requests: int = 0
    web_fetch_requests: int = 0


class OutputTokensDetails(WireModel):
    """A breakdown of ``output_tokens``, which stays the billed total."""

    thinking_tokens: int


class Usage(WireModel):
    """Token counts of one response. ``input_tokens`` counts only tokens after the last cache breakpoint.

    Total input is ``input_tokens + cache_creation_input_tokens + cache_read_input_tokens``.
    """

    input_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    output_tokens: int
    output_tokens_details: OutputTokensDetails | None = None
    server_tool_use: ServerToolUsage | None = None
    service_tier: ServiceTier | None = None
    inference_geo: str | None = None
    speed: str | None = None


class StopDetails(WireModel):
    """Why output stopped, beyond ``stop_reason``; today only ``refusal`` (with ``category``, ``explanation``)."""

    type: str
    category: str | None = None
    explanation: str | None = None


class Container(WireModel):
    """The code-execution container a response used."""

    id: str
    expires_at: datetime
    skills: list[dict[str, Any]] | None = None


class Message(WireModel):
    """A model response. ``stop_reason`` is null only inside the streaming ``message_start`` event.

    ``type``, ``role``, ``stop_reason`` and ``stop_sequence`` are always serialised, null or not: Claude Code
    rejects a message without ``stop_sequence``.
    """

    dumped_when_unset: ClassVar[frozenset[str]] = frozenset({"type", "role", "stop_reason", "stop_sequence"})

    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[ContentBlock]
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    stop_details: StopDetails | None = None
    usage: Usage
    container: Container | None = None


class MessageTokensCount(WireModel):
    """Response of ``count_tokens``: input tokens across messages, system prompt and tools."""

    input_tokens: int
