"""Anthropic content blocks → OpenAI content parts, one function per block family.

What OpenAI chat cannot express becomes a bracketed text note (``[web_search_tool_result for …]``) so the model
still sees that it happened: an explicit degrade, never a silent drop. Block-level ``cache_control`` and
response-side ``citations`` are not carried: OpenAI has no place for them and they do not change the meaning.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from switchboard.common.errors import InvalidRequestError

__all__ = [
    "Part",
    "document_parts",
    "image_part",
    "note",
    "replay_note",
    "require_str",
    "search_result_text",
    "text_part",
    "tool_result_content",
    "unknown_type",
]

Part = dict[str, Any]

# Server-tool results are replayed history; a note longer than this would only crowd the context.
_NOTE_LIMIT = 2000
# Anthropic-encrypted payloads mean nothing to another model and are large.
_OPAQUE_KEYS = frozenset({"encrypted_content", "encrypted_index", "encrypted_stdout"})


def require_str(block: Part, key: str, path: str) -> str:
    value = block.get(key)
    if value is None:
        raise InvalidRequestError(f"{path}.{key}: Field required")
    if not isinstance(value, str):
        raise InvalidRequestError(f"{path}.{key}: Input should be a valid string")
    return value


def unknown_type(path: str, kind: object, what: str = "content block") -> InvalidRequestError:
    return InvalidRequestError(
        f"{path}.type: unknown {what} type {kind!r}; it cannot be sent to a model served by an "
        "OpenAI-compatible provider"
    )


def text_part(text: str) -> Part:
    return {"type": "text", "text": text}


def note(text: str) -> Part:
    return text_part(f"[{text}]")


def image_part(block: Part, path: str) -> Part:
    source = _source(block, path)
    kind = source.get("type")
    if kind == "base64":
        media_type = require_str(source, "media_type", f"{path}.source")
        data = require_str(source, "data", f"{path}.source")
        return {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{data}"}}
    if kind == "url":
        return {"type": "image_url", "image_url": {"url": require_str(source, "url", f"{path}.source")}}
    if kind == "file":
        return _files_api_note("image", source)
    raise unknown_type(f"{path}.source", kind, "image source")


def document_parts(block: Part, path: str) -> list[Part]:
    """A document as parts: an optional title/context header, then its source."""
    source = _source(block, path)
    convert = _DOCUMENT_SOURCES.get(str(source.get("type")))
    if convert is None:
        raise unknown_type(f"{path}.source", source.get("type"), "document source")
    header = [f"[document: {block['title']}]"] if isinstance(block.get("title"), str) else []
    header += [block["context"]] if isinstance(block.get("context"), str) else []
    parts = [text_part("\n".join(header))] if header else []
    return parts + convert(source, block, f"{path}.source")


def _text_document(source: Part, block: Part, path: str) -> list[Part]:
    data = require_str(source, "data", path)
    return [text_part(data)] if data.strip() else []


def _content_document(source: Part, block: Part, path: str) -> list[Part]:
    content = source.get("content")
    if isinstance(content, str):
        return [text_part(content)] if content.strip() else []
    if not isinstance(content, list):
        raise InvalidRequestError(f"{path}.content: Input should be a valid string or list")
    parts: list[Part] = []
    for index, item in enumerate(content):
        item_path = f"{path}.content.{index}"
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text" and require_str(item, "text", item_path).strip():
            parts.append(text_part(item["text"]))
        elif kind == "image":
            parts.append(image_part(item, item_path))
        elif kind != "text":
            raise unknown_type(item_path, kind)
    return parts


def _pdf_document(source: Part, block: Part, path: str) -> list[Part]:
    media_type = source.get("media_type") or "application/pdf"
    data = require_str(source, "data", path)
    filename = block.get("title") if isinstance(block.get("title"), str) else "document.pdf"
    return [{"type": "file", "file": {"file_data": f"data:{media_type};base64,{data}", "filename": filename}}]


def _url_document(source: Part, block: Part, path: str) -> list[Part]:
    # Degrade: OpenAI file parts take inline data only, and the gateway does not fetch URLs on a client's behalf.
    return [note(f"PDF document at {require_str(source, 'url', path)}; its content was not sent to this model")]


def _file_document(source: Part, block: Part, path: str) -> list[Part]:
    return [_files_api_note("document", source)]


_DOCUMENT_SOURCES: dict[str, Callable[[Part, Part, str], list[Part]]] = {
    "text": _text_document,
    "content": _content_document,
    "base64": _pdf_document,
    "url": _url_document,
    "file": _file_document,
}


def search_result_text(block: Part) -> Part:
    content = block.get("content")
    texts = [item["text"] for item in content if _is_text(item)] if isinstance(content, list) else []
    header = f"[search result: {block.get('title', '')} ({block.get('source', '')})]"
    return text_part("\n".join([header, *texts]))


def replay_note(block: Part) -> Part:
    """A note for replayed history OpenAI cannot express: server tool calls/results, uploads, tool references."""
    kind = block["type"]
    if kind == "server_tool_use":
        arguments = _compact(block.get("input"))
        return note(f"server tool call {block.get('name')} ({block.get('id')}) with input {arguments}")
    if kind == "tool_reference":
        return note(f"tool reference: {block.get('tool_name')}")
    if kind == "container_upload":
        return note(f"container upload: {block.get('file_id')}")
    return note(f"{kind} for {block.get('tool_use_id')}: {_compact(block.get('content'))}")


def tool_result_content(block: Part, path: str) -> str | list[Part]:
    """A tool message's content: strings as is; lists as parts with images kept (P12); errors marked."""
    content = block.get("content")
    failed = block.get("is_error") is True
    if content is None or isinstance(content, str):
        text = content or ""
        return (f"Error: {text}" if text else "Error") if failed else text
    if not isinstance(content, list):
        raise InvalidRequestError(f"{path}.content: Input should be a valid string or list")
    parts = [part for index, item in enumerate(content) for part in _result_item(item, f"{path}.content.{index}")]
    # OpenAI has no is_error flag: the marker is the only way the model learns that the tool failed.
    return [text_part("Error:"), *parts] if failed else parts or ""


def _result_item(item: object, path: str) -> list[Part]:
    if not isinstance(item, dict):
        raise InvalidRequestError(f"{path}: Input should be a valid dictionary")
    kind = item.get("type")
    if kind == "text":
        return [text_part(item["text"])] if require_str(item, "text", path).strip() else []
    if kind == "image":
        return [image_part(item, path)]
    if kind == "document":
        return document_parts(item, path)
    if kind == "search_result":
        return [search_result_text(item)]
    if kind == "tool_reference":
        return [replay_note(item)]  # P13: tool search history must not hard-lock the session
    raise unknown_type(path, kind)


def _source(block: Part, path: str) -> Part:
    source = block.get("source")
    if not isinstance(source, dict):
        raise InvalidRequestError(f"{path}.source: Field required")
    return source


def _files_api_note(what: str, source: Part) -> Part:
    # Anthropic Files API ids resolve only at Anthropic; the block stays in history, so rejecting would hard-lock it.
    file_id = source.get("file_id")
    return note(f"{what} {file_id} from the Anthropic Files API; its content is not available to this model")


def _is_text(item: object) -> bool:
    return isinstance(item, dict) and item.get("type") == "text" and isinstance(item.get("text"), str)


def _compact(value: object) -> str:
    text = json.dumps(_without_opaque(value), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= _NOTE_LIMIT else text[:_NOTE_LIMIT] + "…"


def _without_opaque(value: object) -> object:
    if isinstance(value, dict):
        return {key: _without_opaque(item) for key, item in value.items() if key not in _OPAQUE_KEYS}
    if isinstance(value, list):
        return [_without_opaque(item) for item in value]
    return value
