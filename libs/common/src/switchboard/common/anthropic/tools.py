"""Tool definitions (``tools``) and the ``tool_choice`` that constrains their use."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Tag

from .wire import UNKNOWN_TAG, CacheControl, WireModel, open_discriminator, type_of

__all__ = [
    "CustomTool",
    "ServerTool",
    "Tool",
    "ToolChoice",
    "ToolChoiceAny",
    "ToolChoiceAuto",
    "ToolChoiceNone",
    "ToolChoiceTool",
    "UnknownToolChoice",
]


class _ToolOptions(WireModel):
    cache_control: CacheControl | None = None
    defer_loading: bool | None = None
    strict: bool | None = None
    allowed_callers: list[str] | None = None
    input_examples: list[dict[str, Any]] | None = None


class CustomTool(_ToolOptions):
    """A client-executed tool; ``type`` is ``"custom"`` or, usually, absent."""

    dumped_when_unset: ClassVar[frozenset[str]] = frozenset()

    type: Literal["custom"] | None = None
    name: str
    description: str | None = None
    input_schema: dict[str, Any]
    eager_input_streaming: bool | None = None


class ServerTool(_ToolOptions):
    """An Anthropic-defined tool named by a versioned ``type`` (``bash_20250124``, ``web_search_20260318``, …).

    Versions Anthropic adds later validate here too; toolsets (``browser_toolset_*``) have no ``name``.
    """

    type: str
    name: str | None = None


def _tool_kind(value: object) -> str:
    return "custom" if type_of(value) in (None, "custom") else "server"


Tool = Annotated[
    Annotated[CustomTool, Tag("custom")] | Annotated[ServerTool, Tag("server")],
    Discriminator(_tool_kind),
]


class ToolChoiceAuto(WireModel):
    type: Literal["auto"] = "auto"
    disable_parallel_tool_use: bool | None = None


class ToolChoiceAny(WireModel):
    """The model must use some tool."""

    type: Literal["any"] = "any"
    disable_parallel_tool_use: bool | None = None


class ToolChoiceTool(WireModel):
    """The model must use the tool ``name``."""

    type: Literal["tool"] = "tool"
    name: str
    disable_parallel_tool_use: bool | None = None


class ToolChoiceNone(WireModel):
    type: Literal["none"] = "none"


class UnknownToolChoice(WireModel):
    """A ``tool_choice`` type this version does not know, kept as sent."""

    type: str


_ToolChoices = (
    Annotated[ToolChoiceAuto, Tag("auto")]
    | Annotated[ToolChoiceAny, Tag("any")]
    | Annotated[ToolChoiceTool, Tag("tool")]
    | Annotated[ToolChoiceNone, Tag("none")]
    | Annotated[UnknownToolChoice, Tag(UNKNOWN_TAG)]
)
ToolChoice = Annotated[_ToolChoices, open_discriminator(_ToolChoices)]
