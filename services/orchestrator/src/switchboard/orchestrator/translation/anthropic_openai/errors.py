"""An OpenAI-style provider error response → Anthropic status, ``error.type``, message and headers to pass on.

Reads ``{"error": {"message", "type", "code", "param"}}`` (OpenAI; LiteLLM sends codes as strings), vLLM's flat
``{"message", "code"}`` and FastAPI's ``{"detail"}``. Claude Code acts on wording, so a context overflow is
reported as Anthropic words it: a 400 whose message starts ``prompt is too long`` (P27). Provider messages are
passed on trimmed, with key-like strings redacted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from switchboard.common.errors import error_type_for_status

__all__ = ["to_anthropic_error"]

_PASSED_HEADERS = ("retry-after", "retry-after-ms")
_MESSAGE_LIMIT = 500
_TOO_LONG = "prompt is too long"
_CONTEXT_CODES = frozenset({"context_length_exceeded"})
_CONTEXT_PHRASES = (
    "maximum context length",
    "too many tokens",
    _TOO_LONG,
    "context_length_exceeded",
    "contextwindowexceeded",  # LiteLLM's exception name, which it puts in the message
    "context window",
)
# A quota that is used up does not come back on retry: tell the SDKs and Claude Code not to hammer (P35).
_QUOTA_CODES = frozenset({"insufficient_quota"})
# 5xx: Anthropic has no 502/503; 503 (provider busy) is what Anthropic calls overloaded.
_SERVER_STATUS = {503: 529, 504: 504, 529: 529}
_MAXIMUM = re.compile(r"maximum context length is (\d+)", re.IGNORECASE)
_PROMPT = re.compile(r"resulted in (\d+) tokens|(\d+) in the messages", re.IGNORECASE)
_SECRETS = (
    (re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9*_\-]{6,}"), "[redacted]"),
    (re.compile(r"\bBearer\s+\S+", re.IGNORECASE), "Bearer [redacted]"),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{10,}"), "[redacted]"),
    (re.compile(r"(\b(?:api[_-]?key|key|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+", re.IGNORECASE), r"\1[redacted]"),
)


@dataclass(frozen=True)
class _ProviderError:
    message: str | None
    code: str
    type: str


def to_anthropic_error(status: int, body: bytes, headers: Mapping[str, str]) -> tuple[int, str, str, dict[str, str]]:
    """``(status, error.type, message, headers)`` for the client, from a provider's error response."""
    error = _parse(body)
    passed = {name.lower(): value for name, value in headers.items() if name.lower() in _PASSED_HEADERS}
    if status == 400 and error is not None and _is_context_overflow(error):
        return 400, "invalid_request_error", _too_long(error.message), passed
    if status == 429 and error is not None and (error.code in _QUOTA_CODES or error.type in _QUOTA_CODES):
        passed = {"x-should-retry": "false"}
    mapped = status if 400 <= status < 500 else _SERVER_STATUS.get(status, 500)
    message = _clean(error.message) if error is not None and error.message else None
    return mapped, error_type_for_status(mapped), message or f"The provider answered with HTTP {status}", passed


def _parse(body: bytes) -> _ProviderError | None:
    try:
        payload = json.loads(body)
    except ValueError:  # also invalid UTF-8
        return None
    if not isinstance(payload, dict):
        return None
    error = payload.get("error", payload)
    if isinstance(error, str):
        return _ProviderError(error, "", "")
    if not isinstance(error, dict):
        return None
    message = error.get("message", error.get("detail"))
    return _ProviderError(
        message if isinstance(message, str) else None,
        str(error.get("code") or "").lower(),
        str(error.get("type") or "").lower(),
    )


def _is_context_overflow(error: _ProviderError) -> bool:
    if error.code in _CONTEXT_CODES or error.type in _CONTEXT_CODES:
        return True
    text = (error.message or "").lower()
    return any(phrase in text for phrase in _CONTEXT_PHRASES)


def _too_long(message: str | None) -> str:
    """``prompt is too long: …`` with the provider's detail; ``N tokens > M maximum`` first when it says so."""
    detail = _clean(message) if message else "the provider reported that the context window is exceeded"
    if detail.lower().startswith(_TOO_LONG):
        return _TOO_LONG + detail[len(_TOO_LONG) :]
    maximum, prompt = _MAXIMUM.search(detail), _PROMPT.search(detail)
    if maximum and prompt:
        used, limit = int(prompt.group(1) or prompt.group(2)), int(maximum.group(1))
        if used > limit:
            return f"{_TOO_LONG}: {used} tokens > {limit} maximum ({detail})"
    return f"{_TOO_LONG}: {detail}"


def _clean(message: str) -> str:
    for pattern, replacement in _SECRETS:
        message = pattern.sub(replacement, message)
    message = message.strip()
    return message if len(message) <= _MESSAGE_LIMIT else message[:_MESSAGE_LIMIT] + "…"
