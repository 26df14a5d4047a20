"""Anthropic wire shapes the fake provider needs: ids, error bodies, SSE frames and the model catalogue."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

__all__ = [
    "MODELS",
    "error_body",
    "error_type_for",
    "model_page",
    "new_id",
    "sse_frame",
]

_BASE62 = string.ascii_letters + string.digits

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request (fake provider status directive)"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found"),
    408: ("timeout_error", "Request timed out"),
    409: ("conflict_error", "Conflict"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}

MODELS: tuple[dict[str, Any], ...] = (
    {
        "type": "model",
        "id": "claude-sonnet-4-5-20250929",
        "display_name": "Claude Sonnet 4.5",
        "created_at": "2025-09-29T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": 200000,
        "max_tokens": 64000,
    },
    {
        "type": "model",
        "id": "claude-haiku-4-5-20251001",
        "display_name": "Claude Haiku 4.5",
        "created_at": "2025-10-01T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": 200000,
        "max_tokens": 64000,
    },
)


def new_id(prefix: str) -> str:
    """An id shaped like Anthropic's: `<prefix>_` and 24 base62 characters (req, msg, toolu)."""
    return prefix + "_" + "".join(secrets.choice(_BASE62) for _ in range(24))


def error_type_for(status: int) -> str:
    if status in _ERRORS:
        return _ERRORS[status][0]
    return "api_error" if status >= 500 else "invalid_request_error"


def error_body(status: int, request_id: str, message: str | None = None) -> dict[str, Any]:
    """The JSON error body Anthropic returns for `status`, with its default message unless given."""
    default = _ERRORS.get(status, ("", "Error"))[1]
    error = {"type": error_type_for(status), "message": message or default}
    return {"type": "error", "error": error, "request_id": request_id}


def sse_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """One named SSE event; the real API writes pings with a space after the colon, others compact."""
    separators = (", ", ": ") if event_type == "ping" else (",", ":")
    return f"event: {event_type}\ndata: {json.dumps(payload, separators=separators)}\n\n".encode()


def model_page(limit: int, after_id: str | None, before_id: str | None) -> dict[str, Any] | None:
    """A `GET /v1/models` page, or None when a cursor names an unknown model."""
    ids = [model["id"] for model in MODELS]
    start, stop = 0, len(MODELS)
    if after_id is not None:
        if after_id not in ids:
            return None
        start = ids.index(after_id) + 1
    if before_id is not None:
        if before_id not in ids:
            return None
        stop = ids.index(before_id)
        start = max(start, stop - limit) if after_id is None else start
    data = list(MODELS[start:stop][:limit])
    has_more = (start + len(data) < stop) if before_id is None else start > 0
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
