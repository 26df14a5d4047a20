"""The request's ``thinking`` setting: extended thinking on with a budget, adaptive, off, or between tools."""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Tag

from .wire import UNKNOWN_TAG, WireModel, open_discriminator

__all__ = [
    "ThinkingAdaptive",
    "ThinkingBetweenTools",
    "ThinkingConfig",
    "ThinkingDisabled",
    "ThinkingEnabled",
    "UnknownThinking",
]

ThinkingDisplay: TypeAlias = Literal["summarized", "omitted"] | str


class ThinkingEnabled(WireModel):
    """Thinking with a token budget (at least 1024 and below ``max_tokens``)."""

    type: Literal["enabled"] = "enabled"
    budget_tokens: int
    display: ThinkingDisplay | None = None


class ThinkingAdaptive(WireModel):
    """The model decides how much to think; what Claude Code sends for models it does not recognise."""

    type: Literal["adaptive"] = "adaptive"
    display: ThinkingDisplay | None = None


class ThinkingDisabled(WireModel):
    type: Literal["disabled"] = "disabled"


class ThinkingBetweenTools(WireModel):
    type: Literal["between_tools"] = "between_tools"


class UnknownThinking(WireModel):
    """A ``thinking`` type this version does not know, kept as sent."""

    type: str


_ThinkingConfigs = (
    Annotated[ThinkingEnabled, Tag("enabled")]
    | Annotated[ThinkingAdaptive, Tag("adaptive")]
    | Annotated[ThinkingDisabled, Tag("disabled")]
    | Annotated[ThinkingBetweenTools, Tag("between_tools")]
    | Annotated[UnknownThinking, Tag(UNKNOWN_TAG)]
)
ThinkingConfig = Annotated[_ThinkingConfigs, open_discriminator(_ThinkingConfigs)]
