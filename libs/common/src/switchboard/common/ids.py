"""Identifier formats shared across services (Anthropic-style prefixed random ids)."""

from __future__ import annotations

import secrets
import string

__all__ = ["new_id", "new_message_id", "new_request_id", "new_tool_use_id"]

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """``<prefix>_`` followed by ``length`` random base62 characters.

    One read of the system's randomness, then base conversion: ``secrets.choice`` per character made a system
    call per character, measurable on the request path. The random number has a byte per character (8 bits for
    5.95 used), so the digits are uniform for all practical purposes.
    """
    value = int.from_bytes(secrets.token_bytes(length))
    digits = []
    for _ in range(length):
        value, digit = divmod(value, 62)
        digits.append(_ALPHABET[digit])
    return prefix + "_" + "".join(digits)


def new_request_id() -> str:
    """A request id as Anthropic shapes it: ``req_…``."""
    return new_id("req")


def new_message_id() -> str:
    return new_id("msg")


def new_tool_use_id() -> str:
    return new_id("toolu")
