"""OpenAI-style provider errors → Anthropic status, ``error.type``, message and headers (P27, P35)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.orchestrator.translation.anthropic_openai.errors import to_anthropic_error


def openai_error(message: str, code: Any = None, kind: str = "invalid_request_error") -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": code, "param": None}}).encode()


OPENAI_OVERFLOW = (
    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. "
    "Please reduce the length of the messages."
)
VLLM_OVERFLOW = (
    "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
    "(4500 in the messages, 500 in the completion). Please reduce the length of the messages or completion."
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            openai_error(OPENAI_OVERFLOW, "context_length_exceeded"),
            f"prompt is too long: 130512 tokens > 128000 maximum ({OPENAI_OVERFLOW})",
            id="P27-openai-code-with-counts",
        ),
        pytest.param(
            json.dumps({"object": "error", "message": VLLM_OVERFLOW, "type": "BadRequestError", "code": 400}).encode(),
            f"prompt is too long: 4500 tokens > 4096 maximum ({VLLM_OVERFLOW})",
            id="P27-vllm-flat-body",
        ),
        pytest.param(
            openai_error("litellm.ContextWindowExceededError: model limit reached", "400", "None"),
            "prompt is too long: litellm.ContextWindowExceededError: model limit reached",
            id="P27-litellm-string-code",
        ),
        pytest.param(
            openai_error("Request has too many tokens for this model"),
            "prompt is too long: Request has too many tokens for this model",
            id="P27-too-many-tokens",
        ),
        pytest.param(
            openai_error("Prompt is too long: 210000 tokens > 200000 maximum"),
            "prompt is too long: 210000 tokens > 200000 maximum",
            id="P27-already-anthropic-wording",
        ),
        pytest.param(
            openai_error("", "context_length_exceeded"),
            "prompt is too long: the provider reported that the context window is exceeded",
            id="P27-code-only",
        ),
    ],
)
def test_context_overflow_reads_as_prompt_is_too_long(body: bytes, message: str) -> None:
    assert to_anthropic_error(400, body, {}) == (400, "invalid_request_error", message, {})


@pytest.mark.parametrize(
    ("status", "body", "expected_status", "error_type", "message"),
    [
        (429, openai_error("Rate limit reached", "rate_limit_exceeded"), 429, "rate_limit_error", "Rate limit reached"),
        (429, openai_error("slow down", "429", "None"), 429, "rate_limit_error", "slow down"),
        (400, openai_error("bad param"), 400, "invalid_request_error", "bad param"),
        (401, openai_error("no auth", kind="invalid_api_key"), 401, "authentication_error", "no auth"),
        (403, openai_error("forbidden"), 403, "permission_error", "forbidden"),
        (404, openai_error("The model `x` does not exist"), 404, "not_found_error", "The model `x` does not exist"),
        (422, b'{"detail": "unprocessable"}', 422, "invalid_request_error", "unprocessable"),
        (500, openai_error("boom", kind="server_error"), 500, "api_error", "boom"),
        (502, b"<html>Bad Gateway</html>", 500, "api_error", "The provider answered with HTTP 502"),
        (503, b"Service Unavailable", 529, "overloaded_error", "The provider answered with HTTP 503"),
        (504, b"", 504, "timeout_error", "The provider answered with HTTP 504"),
        (529, b'{"error": "overloaded"}', 529, "overloaded_error", "overloaded"),
        (400, b"\xff\xfe not utf-8", 400, "invalid_request_error", "The provider answered with HTTP 400"),
        (500, b'{"error": {"code": 500}}', 500, "api_error", "The provider answered with HTTP 500"),
    ],
)
def test_status_and_type(status: int, body: bytes, expected_status: int, error_type: str, message: str) -> None:
    assert to_anthropic_error(status, body, {}) == (expected_status, error_type, message, {})


def test_retry_headers_pass_and_others_do_not() -> None:
    headers = {"Retry-After": "7", "retry-after-ms": "6500", "x-ratelimit-remaining-requests": "0", "set-cookie": "s"}
    *_, passed = to_anthropic_error(429, openai_error("slow down"), headers)
    assert passed == {"retry-after": "7", "retry-after-ms": "6500"}


def test_p35_used_up_quota_is_not_retried() -> None:
    body = openai_error("You exceeded your current quota", "insufficient_quota", "insufficient_quota")
    assert to_anthropic_error(429, body, {"retry-after": "1"}) == (
        429,
        "rate_limit_error",
        "You exceeded your current quota",
        {"x-should-retry": "false"},
    )


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("Incorrect API key provided: sk-proj-abcDEF123456789. Find your key at ...", "sk-proj-abcDEF123456789"),
        ("upstream said: Authorization: Bearer eyJhbGciOi.secret", "eyJhbGciOi.secret"),
        ("GET https://llm.test/v1?key=AIzaSyA1234567890abcdef failed", "AIzaSyA1234567890abcdef"),
        ('bad config {"api_key": "hunter2-very-secret"}', "hunter2-very-secret"),
    ],
)
def test_secrets_are_redacted(message: str, secret: str) -> None:
    _, _, reported, _ = to_anthropic_error(401, openai_error(message), {})
    assert secret not in reported
    assert "[redacted]" in reported


def test_long_messages_are_trimmed() -> None:
    _, _, reported, _ = to_anthropic_error(400, openai_error("x" * 5000), {})
    assert len(reported) <= 501
    assert reported.endswith("…")
