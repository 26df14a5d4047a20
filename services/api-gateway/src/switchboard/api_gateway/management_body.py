"""Bodies of the management API (``/api/v1/...``): small JSON objects, validated with a message naming the field."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from switchboard.api_gateway.request_body import read_body
from switchboard.common.errors import InvalidRequestError

__all__ = ["MANAGEMENT_BODY_LIMIT", "parse_management_body"]

MANAGEMENT_BODY_LIMIT = 64 * 1024

Model = TypeVar("Model", bound=BaseModel)


async def parse_management_body(request: Request, model: type[Model]) -> Model:
    body = await read_body(request, MANAGEMENT_BODY_LIMIT)
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        if error["type"] == "json_invalid":
            raise InvalidRequestError("Request body is not valid JSON.") from None
        location = ".".join(str(part) for part in error["loc"]) or "body"
        message = "Field required" if error["type"] == "missing" else error["msg"]
        raise InvalidRequestError(f"{location}: {message}") from None
