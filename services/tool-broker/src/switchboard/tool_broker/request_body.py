"""Reads an HTTP request body up to a size limit and parses it into a protocol model, with client-facing errors."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from switchboard.common.errors import InvalidRequestError, RequestTooLargeError

__all__ = ["parsed_body"]

_Model = TypeVar("_Model", bound=BaseModel)


async def parsed_body(request: Request, model: type[_Model], limit: int) -> _Model:
    body = await _capped_body(request, limit)
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidRequestError(_describe(exc)) from None


async def _capped_body(request: Request, limit: int) -> bytes:
    too_large = RequestTooLargeError(f"Request body is larger than {limit} bytes.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return "The request body is not valid JSON."
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"
