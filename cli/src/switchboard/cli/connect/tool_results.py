"""MCP ``tools/call`` results as Anthropic ``tool_result`` content: the one translation the connector makes.

Text stays text, images become base64 ``image`` blocks, anything else (embedded resources, resource links,
audio) becomes a ``text`` block holding its JSON. ``content`` is preferred; ``structured_content`` is used only
when ``content`` is empty. An ``is_error`` result becomes ``success: false`` with the text as ``error``.
"""

from __future__ import annotations

import json

from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent

from switchboard.common.mcp_protocol import ToolResult

__all__ = ["content_block", "to_tool_result"]


def content_block(block: ContentBlock) -> dict[str, object]:
    """One MCP content block as an Anthropic content block."""
    if isinstance(block, TextContent):
        return {"type": "text", "text": block.text}
    if isinstance(block, ImageContent):
        return {"type": "image", "source": {"type": "base64", "media_type": block.mime_type, "data": block.data}}
    as_json = json.dumps(block.model_dump(mode="json", by_alias=True, exclude_none=True), ensure_ascii=False)
    return {"type": "text", "text": as_json}


def _blocks(result: CallToolResult) -> list[dict[str, object]]:
    if result.content:
        return [content_block(block) for block in result.content]
    if result.structured_content is not None:
        return [{"type": "text", "text": json.dumps(result.structured_content, ensure_ascii=False)}]
    return []


def _error_text(blocks: list[dict[str, object]]) -> str:
    texts = [str(block["text"]) for block in blocks if block["type"] == "text"]
    return "\n".join(texts) or "the tool reported an error without saying why"


def to_tool_result(result: CallToolResult) -> ToolResult:
    blocks = _blocks(result)
    if result.is_error:
        return ToolResult(success=False, error=_error_text(blocks))
    return ToolResult(success=True, content=blocks)
