"""The client's JSON body as an object, for providers that must look inside it (most forward it unread)."""

from __future__ import annotations

import json
from typing import Any

from switchboard.common.errors import InvalidRequestError

__all__ = ["body_object"]


def body_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidRequestError("request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise InvalidRequestError("request body must be a JSON object")
    return payload
