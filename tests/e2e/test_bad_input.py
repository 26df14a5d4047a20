"""Every malformed request gets an Anthropic-shaped 4xx naming what was wrong, through the real HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from unittest.mock import ANY

import httpx
import pytest

from support.stack import Stack

VALID = {"model": "claude-opus-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


def headers(stack: Stack, **extra: str) -> dict[str, str]:
    return {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01", "content-type": "application/json", **extra}


def assert_error(response: httpx.Response, status: int, error_type: str, mentions: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert mentions in body["error"]["message"]
    assert body["request_id"] == response.headers["request-id"]
    assert body["request_id"].startswith("req_")
    assert "Traceback" not in response.text


def with_field(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {**VALID, **changes}
    return {key: value for key, value in body.items() if value is not ...}


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe{}", "JSON"),
        (json.dumps(with_field(model=...)).encode(), "model: Field required"),
        (json.dumps(with_field(messages=...)).encode(), "messages: Field required"),
        (json.dumps(with_field(max_tokens=...)).encode(), "max_tokens: Field required"),
        (json.dumps(with_field(model=42)).encode(), "model"),
        (json.dumps(with_field(model="")).encode(), "model"),
        (json.dumps(with_field(messages="hello")).encode(), "messages"),
        (json.dumps(with_field(messages=[])).encode(), "messages: at least one message"),
        (json.dumps(with_field(messages=[{"content": "x"}])).encode(), "messages.0.role"),
        (json.dumps(with_field(messages=[{"role": "user", "content": 5}])).encode(), "messages.0.content"),
        (json.dumps(with_field(max_tokens=-1)).encode(), "max_tokens"),
        (json.dumps(with_field(max_tokens="16")).encode(), "max_tokens"),
        (json.dumps(with_field(max_tokens=1.5)).encode(), "max_tokens"),
        (json.dumps(with_field(stream="yes")).encode(), "stream"),
    ],
)
def test_malformed_bodies_get_400_naming_the_field(stack: Stack, body: bytes, mentions: str) -> None:
    response = httpx.post(f"{stack.base_url}/v1/messages", content=body, headers=headers(stack))
    assert_error(response, 400, "invalid_request_error", mentions)


def test_max_tokens_zero_is_forwarded_for_cache_prewarming(stack: Stack) -> None:
    response = httpx.post(f"{stack.base_url}/v1/messages", json=with_field(max_tokens=0), headers=headers(stack))
    assert response.status_code == 200, response.text


def test_count_tokens_does_not_need_max_tokens(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.base_url}/v1/messages/count_tokens?beta=true", json=with_field(max_tokens=...), headers=headers(stack)
    )
    assert response.status_code == 200, response.text
    assert response.json()["input_tokens"] > 0


def test_missing_anthropic_version_is_named(stack: Stack) -> None:
    response = httpx.post(f"{stack.base_url}/v1/messages", json=VALID, headers={"x-api-key": stack.api_key})
    assert_error(response, 400, "invalid_request_error", "anthropic-version")


def test_provider_validation_passes_through_unchanged(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        json=with_field(temperature=0.5),
        headers=headers(stack, **{"anthropic-version": "2026-10-21"}),
    )
    assert_error(response, 400, "invalid_request_error", "temperature: Extra inputs are not permitted")


def test_declared_oversized_body_gets_413(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=b"{" + b" " * (32 * 1024 * 1024) + b"}",
        headers=headers(stack),
    )
    assert_error(response, 413, "request_too_large", "maximum")


def test_chunked_oversized_body_gets_413_while_reading(stack: Stack) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"{"
        for _ in range(40):
            yield b" " * (1024 * 1024)
        yield b"}"

    response = httpx.post(f"{stack.base_url}/v1/messages", content=chunks(), headers=headers(stack))
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "request_too_large", "maximum")


def test_unknown_model_without_route_gets_404(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.base_url}/v1/messages", json=with_field(model="unrouted-model"), headers=headers(stack)
    )
    assert_error(response, 404, "not_found_error", "unrouted-model")


def test_provider_404_passes_through_for_routed_models(stack: Stack) -> None:
    body = with_field(model="claude-nonexistent", messages=[{"role": "user", "content": "[[fake:status=404]]"}])
    response = httpx.post(f"{stack.base_url}/v1/messages", json=body, headers=headers(stack))
    assert_error(response, 404, "not_found_error", "claude-nonexistent")


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v2/anything"), ("POST", "/v1/complete"), ("GET", "/favicon.ico")]
)
def test_unknown_paths_get_anthropic_shaped_404(stack: Stack, method: str, path: str) -> None:
    response = httpx.request(method, f"{stack.base_url}{path}", headers=headers(stack))
    assert_error(response, 404, "not_found_error", path)


def test_wrong_method_gets_anthropic_shaped_405(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/v1/messages", headers=headers(stack))
    assert_error(response, 405, "invalid_request_error", "GET")


@pytest.mark.parametrize("path", ["/", "/api/hello"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_base_path_answers(stack: Stack, method: str, path: str) -> None:
    response = httpx.request(method, f"{stack.base_url}{path}")
    assert response.status_code == 200
    assert response.headers["request-id"].startswith("req_")


def test_health_reports_components(stack: Stack) -> None:
    body = httpx.get(f"{stack.base_url}/v1/health").json()
    assert body["status"] == "healthy"
    assert set(body["components"]) == {"nats", "orchestrator", "database", "tool_broker", "metering"}
    # The shared stack runs no tool-broker nor metering: reported, but the Messages API stays healthy without them.
    assert body["components"]["tool_broker"] == {"status": "down", "detail": ANY, "required": False}
    assert body["components"]["metering"] == {"status": "down", "detail": ANY, "required": False}
    expected_backend = "postgresql" if stack.database_url else "sqlite"
    assert body["components"]["database"]["backend"] == expected_backend


ODD_VALUES: list[object] = [None, 0, -1, 2**63, 1.5, "", "x", [], [None], {}, {"type": None}, True]


def mutations() -> list[tuple[str, dict[str, object]]]:
    """Every top-level and message-level field of a valid body replaced by every odd value."""
    cases: list[tuple[str, dict[str, object]]] = []
    for value in ODD_VALUES:
        fields = ("model", "messages", "max_tokens", "stream", "system", "tools", "metadata")
        cases.extend((f"{field}={value!r}", {**VALID, field: value}) for field in fields)
        for field in ("role", "content"):
            message = {"role": "user", "content": "hi", field: value}
            cases.append((f"messages.0.{field}={value!r}", {**VALID, "messages": [message]}))
        cases.append((f"messages=[{value!r}]", {**VALID, "messages": [value]}))
    return cases


def test_no_input_produces_a_server_error(stack: Stack) -> None:
    with httpx.Client(headers=headers(stack), timeout=30) as client:
        for label, body in mutations():
            response = client.post(f"{stack.base_url}/v1/messages", content=json.dumps(body).encode())
            assert response.status_code < 500, f"{label}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                assert response.json()["type"] == "error", label
            if response.headers["content-type"].startswith("text/event-stream"):
                assert "event: message_stop" in response.text, label
