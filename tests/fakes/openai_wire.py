"""OpenAI Chat Completions wire shapes the fake server needs: ids, error bodies, SSE frames, the model list."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

__all__ = [
    "CONTEXT_LENGTH_MESSAGE",
    "DONE_FRAME",
    "MODELS",
    "REASONING_ROUNDTRIP_MESSAGE",
    "error_body",
    "new_id",
    "sse_frame",
    "status_error_body",
]

_ALNUM = string.ascii_letters + string.digits

CONTEXT_LENGTH_MESSAGE = (
    "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens."
)
REASONING_ROUNDTRIP_MESSAGE = "The reasoning_content in the thinking mode must be passed back to the API"
DONE_FRAME = b"data: [DONE]\n\n"

# status -> (error.type, error.code, default message), as OpenAI answers them.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request (fake provider status directive)"),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests"),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later"),
}

MODELS: tuple[dict[str, Any], ...] = (
    {"id": "gpt-fake", "object": "model", "created": 1700000000, "owned_by": "fake"},
    {"id": "gpt-fake-mini", "object": "model", "created": 1700000000, "owned_by": "fake"},
)


def new_id(prefix: str, length: int = 24) -> str:
    """`chatcmpl-<29 alnum>` for completions, `call_<24 alnum>` for tool calls."""
    separator = "-" if prefix == "chatcmpl" else "_"
    return prefix + separator + "".join(secrets.choice(_ALNUM) for _ in range(length))


def error_body(
    message: str, error_type: str = "invalid_request_error", code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def status_error_body(status: int, *, model: str = "", context_length: bool = False) -> dict[str, Any]:
    """The body OpenAI returns for `status` (the `status=NNN` directive)."""
    if status == 400 and context_length:
        return error_body(CONTEXT_LENGTH_MESSAGE, code="context_length_exceeded", param="messages")
    if status == 404:
        message = f"The model `{model}` does not exist or you do not have access to it."
        return error_body(message, code="model_not_found")
    default = ("server_error", None, "Upstream error") if status >= 500 else ("invalid_request_error", None, "Error")
    error_type, code, message = _ERRORS.get(status, default)
    return error_body(message, error_type, code)


def sse_frame(payload: dict[str, Any]) -> bytes:
    """One data-only SSE frame, compact JSON, as OpenAI writes them (no `event:` lines)."""
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"
