"""Reads a request body within the size limit (chunked bodies included) and checks what routing needs.

Validation is deliberately shallow: the gateway checks only what routing and safety depend on and leaves the
rest to the provider, whose own 400 then reaches the client unchanged.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from switchboard.common.errors import InvalidRequestError, RequestTooLargeError

__all__ = ["MessagesRequestHead", "parse_head", "read_body"]


class _MessageHead(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: StrictStr
    content: StrictStr | list[dict[str, Any]]


class MessagesRequestHead(BaseModel):
    """The fields of a Messages API body that the gateway itself relies on."""

    model_config = ConfigDict(extra="allow")

    model: StrictStr = Field(min_length=1)
    messages: list[_MessageHead] = Field(min_length=1)
    max_tokens: StrictInt | None = Field(default=None, ge=0)
    stream: StrictBool | None = None


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLargeError(_too_large_message(limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLargeError(_too_large_message(limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large_message(limit: int) -> str:
    return f"Request exceeds the maximum allowed number of bytes ({limit})."


def parse_head(body: bytes, *, require_max_tokens: bool) -> MessagesRequestHead:
    if not body.strip():
        raise InvalidRequestError("Request body is empty; expected a JSON object.")
    try:
        head = MessagesRequestHead.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidRequestError(_describe(exc)) from None
    if require_max_tokens and head.max_tokens is None:
        raise InvalidRequestError("max_tokens: Field required")
    return head


def _describe(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    if error["type"] == "json_invalid":
        return f"Request body is not valid JSON: {error['ctx'].get('error', 'parse error')}"
    if error["type"] == "model_type":
        return "Request body must be a JSON object."
    location = ".".join(str(part) for part in error["loc"])
    message = "Field required" if error["type"] == "missing" else error["msg"]
    if error["type"] == "too_short" and location == "messages":
        message = "at least one message is required"
    return f"{location}: {message}"
