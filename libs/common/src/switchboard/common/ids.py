"""Identifier formats shared across services (Anthropic-style prefixed random ids)."""

from __future__ import annotations

import secrets
import string

__all__ = ["new_id", "new_message_id", "new_request_id", "new_tool_use_id"]

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """``<prefix>_`` followed by ``length`` random base62 characters."""
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_request_id() -> str:
    """A request id as Anthropic shapes it: ``req_…``."""
    return new_id("req")


def new_message_id() -> str:
    return new_id("msg")


def new_tool_use_id() -> str:
    return new_id("toolu")
