"""Bring your own key: the endpoints of the well-known providers a user may store a key for without a base URL."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["BYOK_DEFAULT_BASE_URLS"]

BYOK_DEFAULT_BASE_URLS: Mapping[str, str] = MappingProxyType(
    {
        "openai": "https://api.openai.com/v1",
        "openrouter": "https://openrouter.ai/api/v1",
    }
)
"""OpenAI-compatible providers whose endpoint is known; a key for any other name (but ``anthropic``) needs one."""
