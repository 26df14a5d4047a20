"""How a caller's credential is read from request headers, the same way by every service that accepts one."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping

__all__ = ["credential_from", "looks_like_jwt"]

_BEARER = "bearer "
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def credential_from(headers: Mapping[str, str]) -> str | None:
    """``x-api-key`` wins over ``Authorization``; either may carry a ``Bearer`` prefix. Header names lower-case."""
    for name in ("x-api-key", "authorization"):
        value = headers.get(name, "").strip()
        if value[: len(_BEARER)].lower() == _BEARER:
            value = value[len(_BEARER) :].strip()
        if value:
            return value
    return None


def looks_like_jwt(value: str) -> bool:
    """Whether ``value`` has the JWS compact shape (three base64url segments, a JSON header with ``alg``)."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1] or not all(_SEGMENT.fullmatch(p) for p in parts):
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError):
        return False
    return isinstance(header, dict) and "alg" in header
