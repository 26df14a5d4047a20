"""Content blocks of messages, one model per ``type``, shared by requests and responses.

``ContentBlock`` accepts every block type, including ones Anthropic adds later (as ``UnknownBlock``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Tag

from .citations import Citation, CitationsConfig
from .server_tools import (
    BashCodeExecutionToolResultBlock,
    Caller,
    CodeExecutionToolResultBlock,
    ServerToolUseBlock,
    TextEditorCodeExecutionToolResultBlock,
    ToolSearchToolResultBlock,
    WebFetchToolResultBlock,
    WebSearchToolResultBlock,
)
from .sources import Base64Source, FileSource, ImageSource, PlainTextSource, UnknownSource, UrlSource
from .wire import UNKNOWN_TAG, CacheControl, WireModel, open_discriminator

__all__ = [
    "ContainerUploadBlock",
    "ContentBlock",
    "ContentSource",
    "DocumentBlock",
    "DocumentSource",
    "ImageBlock",
    "RedactedThinkingBlock",
    "SearchResultBlock",
    "TextBlock",
    "ThinkingBlock",
    "ToolAdditionBlock",
    "ToolChange",
    "ToolReferenceBlock",
    "ToolRemovalBlock",
    "ToolResultBlock",
    "ToolResultContent",
    "ToolUseBlock",
    "UnknownBlock",
]


class UnknownBlock(WireModel):
    """A block type this version does not know, kept as sent."""

    type: str


class TextBlock(WireModel):
    type: Literal["text"] = "text"
    text: str
    citations: list[Citation] | None = None
    cache_control: CacheControl | None = None


class ImageBlock(WireModel):
    type: Literal["image"] = "image"
    source: ImageSource
    cache_control: CacheControl | None = None


_ContentSourceBlocks = (
    Annotated[TextBlock, Tag("text")] | Annotated[ImageBlock, Tag("image")] | Annotated[UnknownBlock, Tag(UNKNOWN_TAG)]
)


class ContentSource(WireModel):
    """A document made of content blocks (custom chunking for citations)."""

    type: Literal["content"] = "content"
    content: str | list[Annotated[_ContentSourceBlocks, open_discriminator(_ContentSourceBlocks)]]


_DocumentSources = (
    Annotated[Base64Source, Tag("base64")]
    | Annotated[PlainTextSource, Tag("text")]
    | Annotated[ContentSource, Tag("content")]
    | Annotated[UrlSource, Tag("url")]
    | Annotated[FileSource, Tag("file")]
    | Annotated[UnknownSource, Tag(UNKNOWN_TAG)]
)
DocumentSource = Annotated[_DocumentSources, open_discriminator(_DocumentSources)]


class DocumentBlock(WireModel):
    type: Literal["document"] = "document"
    source: DocumentSource
    title: str | None = None
    context: str | None = None
    citations: CitationsConfig | None = None
    cache_control: CacheControl | None = None


class SearchResultBlock(WireModel):
    type: Literal["search_result"] = "search_result"
    source: str
    title: str
    content: list[TextBlock]
    citations: CitationsConfig | None = None
    cache_control: CacheControl | None = None


class ToolUseBlock(WireModel):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]
    caller: Caller | None = None
    toolset_name: str | None = None
    cache_control: CacheControl | None = None


class ToolReferenceBlock(WireModel):
    """Names a deferred tool that tool search loaded; found inside ``tool_result`` content."""

    type: Literal["tool_reference"] = "tool_reference"
    tool_name: str
    cache_control: CacheControl | None = None


_ToolResultContents = (
    Annotated[TextBlock, Tag("text")]
    | Annotated[ImageBlock, Tag("image")]
    | Annotated[DocumentBlock, Tag("document")]
    | Annotated[SearchResultBlock, Tag("search_result")]
    | Annotated[ToolReferenceBlock, Tag("tool_reference")]
    | Annotated[UnknownBlock, Tag(UNKNOWN_TAG)]
)
ToolResultContent = Annotated[_ToolResultContents, open_discriminator(_ToolResultContents)]


class ToolResultBlock(WireModel):
    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: str | list[ToolResultContent] | None = None
    is_error: bool | None = None
    toolset_name: str | None = None
    cache_control: CacheControl | None = None


class ThinkingBlock(WireModel):
    """Must be sent back byte for byte: the ``signature`` covers ``thinking``."""

    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str


class RedactedThinkingBlock(WireModel):
    type: Literal["redacted_thinking"] = "redacted_thinking"
    data: str


class ToolChange(WireModel):
    """The tool a ``tool_addition`` or ``tool_removal`` names: a reference, an MCP tool or a full definition."""

    type: str


class ToolAdditionBlock(WireModel):
    """Makes a tool available mid-conversation; sent in ``role: "system"`` messages."""

    type: Literal["tool_addition"] = "tool_addition"
    tool: ToolChange
    cache_control: CacheControl | None = None


class ToolRemovalBlock(WireModel):
    """Withdraws a tool mid-conversation; sent in ``role: "system"`` messages."""

    type: Literal["tool_removal"] = "tool_removal"
    tool: ToolChange
    cache_control: CacheControl | None = None


class ContainerUploadBlock(WireModel):
    type: Literal["container_upload"] = "container_upload"
    file_id: str
    cache_control: CacheControl | None = None


_ContentBlocks = (
    Annotated[TextBlock, Tag("text")]
    | Annotated[ImageBlock, Tag("image")]
    | Annotated[DocumentBlock, Tag("document")]
    | Annotated[SearchResultBlock, Tag("search_result")]
    | Annotated[ToolUseBlock, Tag("tool_use")]
    | Annotated[ToolResultBlock, Tag("tool_result")]
    | Annotated[ThinkingBlock, Tag("thinking")]
    | Annotated[RedactedThinkingBlock, Tag("redacted_thinking")]
    | Annotated[ServerToolUseBlock, Tag("server_tool_use")]
    | Annotated[WebSearchToolResultBlock, Tag("web_search_tool_result")]
    | Annotated[WebFetchToolResultBlock, Tag("web_fetch_tool_result")]
    | Annotated[CodeExecutionToolResultBlock, Tag("code_execution_tool_result")]
    | Annotated[BashCodeExecutionToolResultBlock, Tag("bash_code_execution_tool_result")]
    | Annotated[TextEditorCodeExecutionToolResultBlock, Tag("text_editor_code_execution_tool_result")]
    | Annotated[ToolSearchToolResultBlock, Tag("tool_search_tool_result")]
    | Annotated[ToolReferenceBlock, Tag("tool_reference")]
    | Annotated[ToolAdditionBlock, Tag("tool_addition")]
    | Annotated[ToolRemovalBlock, Tag("tool_removal")]
    | Annotated[ContainerUploadBlock, Tag("container_upload")]
    | Annotated[UnknownBlock, Tag(UNKNOWN_TAG)]
)
ContentBlock = Annotated[_ContentBlocks, open_discriminator(_ContentBlocks)]
"""Any block of a message's ``content``, request or response side."""
