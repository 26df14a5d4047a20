"""OpenAI ``usage`` → Anthropic ``usage``: cached prompt tokens reported once, under the cache fields (P20).

OpenAI's ``prompt_tokens`` includes cached tokens, and LiteLLM's (for cache-capable upstreams) includes cache
writes too, while Anthropic's ``input_tokens`` counts only the rest: total input is
``input_tokens + cache_read_input_tokens + cache_creation_input_tokens``. Where the cached count comes from:
``prompt_tokens_details.cached_tokens`` (OpenAI, vLLM), else LiteLLM's ``cache_read_input_tokens``, else
DeepSeek's ``prompt_cache_hit_tokens``; cache writes from LiteLLM's ``cache_creation_input_tokens`` or
``prompt_tokens_details.cache_creation_tokens``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["anthropic_usage"]


def anthropic_usage(
    openai_usage: Mapping[str, Any] | None, *, input_estimate: int, output_estimate: int = 1
) -> dict[str, Any]:
    """Anthropic usage with ``input_tokens``, both cache fields and ``output_tokens`` always present.

    The estimates stand in for what the provider did not report (no usage at all, or no/zero
    ``prompt_tokens``, which no real prompt has): ``input_estimate`` is the caller's count of the request,
    ``output_estimate`` of what was generated. Both are raised to at least 1, because Claude Code treats 0
    input as "unknown" (P21). ``completion_tokens`` already includes reasoning tokens, as Anthropic's
    ``output_tokens`` includes thinking; ``reasoning_tokens`` is exposed as ``output_tokens_details``.
    """
    usage: Mapping[str, Any] = openai_usage or {}
    details = _mapping(usage.get("prompt_tokens_details"))
    cache_read = _first_count(
        details.get("cached_tokens"), usage.get("cache_read_input_tokens"), usage.get("prompt_cache_hit_tokens")
    )
    cache_write = _first_count(usage.get("cache_creation_input_tokens"), details.get("cache_creation_tokens"))
    prompt = _count(usage.get("prompt_tokens"))
    input_tokens = max(1, input_estimate) if not prompt else max(0, prompt - cache_read - cache_write)
    completion = _count(usage.get("completion_tokens"))
    result: dict[str, Any] = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": completion if completion is not None else max(1, output_estimate),
    }
    reasoning = _count(_mapping(usage.get("completion_tokens_details")).get("reasoning_tokens"))
    if reasoning is not None:
        result["output_tokens_details"] = {"thinking_tokens": reasoning}
    return result


def _count(value: object) -> int | None:
    """A token count, or ``None`` for anything that is not one (``null``, strings, booleans, negatives)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value >= 0 else None


def _first_count(*values: object) -> int:
    for value in values:
        count = _count(value)
        if count is not None:
            return count
    return 0


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
