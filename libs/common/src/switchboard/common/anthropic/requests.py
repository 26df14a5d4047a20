"""Request bodies of ``POST /v1/messages`` and ``POST /v1/messages/count_tokens``."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from pydantic import ConfigDict, Field

from .content import ContentBlock, TextBlock
from .thinking import ThinkingConfig
from .tools import Tool, ToolChoice
from .wire import CacheControl, WireModel

__all__ = [
    "ContainerParams",
    "ContextEdit",
    "ContextManagement",
    "CountTokensParams",
    "MessageCreateParams",
    "MessageParam",
    "Metadata",
    "OutputConfig",
    "OutputFormat",
]

Effort: TypeAlias = Literal["low", "medium", "high", "xhigh", "max"] | str
Speed: TypeAlias = Literal["standard", "fast"] | str
RequestServiceTier: TypeAlias = Literal["auto", "standard_only"] | str


class MessageParam(WireModel):
    """One turn; ``system`` turns are mid-conversation system messages and must follow a ``user`` turn."""

    role: Literal["user", "assistant", "system"]
    content: str | list[ContentBlock]


class Metadata(WireModel):
    user_id: str | None = None


class OutputFormat(WireModel):
    """Structured-output format; ``json_schema`` is the wire field ``schema``, which pydantic reserves."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)

    type: Literal["json_schema"] | str = "json_schema"
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")


class OutputConfig(WireModel):
    effort: Effort | None = None
    format: OutputFormat | None = None


class ContextEdit(WireModel):
    """One context-management strategy, named by a versioned ``type`` (``clear_thinking_20251015``, …)."""

    type: str


class ContextManagement(WireModel):
    edits: list[ContextEdit] | None = None


class ContainerParams(WireModel):
    """A container to reuse (``id``) and the skills to load into it."""

    id: str | None = None
    skills: list[dict[str, Any]] | None = None


class _ConversationParams(WireModel):
    """What ``count_tokens`` shares with message creation: the prompt, tools and the settings that size it."""

    model: str
    messages: list[MessageParam]
    system: str | list[TextBlock] | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None
    output_config: OutputConfig | None = None
    context_management: ContextManagement | None = None
    cache_control: CacheControl | None = None
    speed: Speed | None = None


class CountTokensParams(_ConversationParams):
    """Body of ``POST /v1/messages/count_tokens``."""


class MessageCreateParams(_ConversationParams):
    """Body of ``POST /v1/messages``; ``max_tokens=0`` is legal and only warms the prompt cache.

    ``temperature``, ``top_p`` and ``top_k`` are accepted under ``anthropic-version: 2023-06-01`` only.
    """

    max_tokens: int = Field(ge=0)
    metadata: Metadata | None = None
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    service_tier: RequestServiceTier | None = None
    container: str | ContainerParams | None = None
    inference_geo: str | None = None
