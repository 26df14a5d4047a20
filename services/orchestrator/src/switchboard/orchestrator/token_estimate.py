"""A local, deterministic token estimate (about four characters per token) for when no provider counts."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["estimate_char_tokens", "estimate_input_tokens", "estimate_text_tokens"]

_CHARS_PER_TOKEN = 4
_COUNTED_FIELDS = ("system", "messages", "tools")


def estimate_text_tokens(text: str) -> int:
    """Never 0, so callers that treat 0 as "unknown" (Claude Code's auto-compaction) keep working."""
    return estimate_char_tokens(len(text))


def estimate_char_tokens(chars: int) -> int:
    """Tokens of ``chars`` characters of text, rounded up and never 0 (something was produced)."""
    return max(1, -(-chars // _CHARS_PER_TOKEN))


def estimate_input_tokens(body: dict[str, Any]) -> int:
    """Estimate over the JSON of ``system``, ``messages`` and ``tools``: what the model actually reads."""
    counted = {name: body[name] for name in _COUNTED_FIELDS if name in body}
    return estimate_text_tokens(json.dumps(counted, ensure_ascii=False, separators=(",", ":")))
