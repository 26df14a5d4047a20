"""Key handling through the real HTTP server: every accepted header form and every failure."""

from __future__ import annotations

import httpx
import pytest

from support.stack import Stack

BODY = {"model": "claude-opus-5", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
VERSION = {"anthropic-version": "2023-06-01"}


def post(stack: Stack, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/v1/messages", json=BODY, headers={**VERSION, **headers})


@pytest.mark.parametrize(
    "make_headers",
    [
        lambda key: {"x-api-key": key},
        lambda key: {"x-api-key": f"Bearer {key}"},
        lambda key: {"authorization": f"Bearer {key}"},
        lambda key: {"x-api-key": key, "authorization": f"Bearer {key}"},
        lambda key: {"x-api-key": key, "authorization": "Bearer something-else"},
    ],
    ids=["x-api-key", "x-api-key-bearer", "authorization-bearer", "both-same", "x-api-key-wins"],
)
def test_accepted_credential_forms(stack: Stack, make_headers: object) -> None:
    response = post(stack, make_headers(stack.api_key))  # type: ignore[operator]
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "x-api-key header is required"),
        ({"x-api-key": ""}, "x-api-key header is required"),
        ({"x-api-key": "sk-ant-uc-" + "A" * 43}, "invalid x-api-key"),
        ({"x-api-key": "not-a-key"}, "invalid x-api-key"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "invalid x-api-key"),
        ({"authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}, "JWT algorithm not allowed"),
    ],
    ids=["missing", "empty", "unknown", "malformed", "basic-auth", "unverifiable-jwt"],
)
def test_rejected_credentials_get_401(stack: Stack, headers: dict[str, str], message: str) -> None:
    response = post(stack, headers)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == {"type": "authentication_error", "message": message}
    assert body["request_id"] == response.headers["request-id"]
    for value in headers.values():
        if value.strip():
            assert value.split()[-1] not in response.text, "a credential must never be echoed"


def test_models_and_count_tokens_need_a_key_too(stack: Stack) -> None:
    assert httpx.get(f"{stack.base_url}/v1/models", headers=VERSION).status_code == 401
    response = httpx.post(f"{stack.base_url}/v1/messages/count_tokens", json=BODY, headers=VERSION)
    assert response.status_code == 401
