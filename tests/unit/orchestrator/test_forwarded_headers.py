"""Headers to the provider: every forwarded one unchanged, credentials never; back: retry advice only."""

from __future__ import annotations

from pydantic import SecretStr

from switchboard.orchestrator.headers import response_headers, upstream_request_headers


def test_request_headers_forward_everything_but_credentials() -> None:
    forwarded = {
        "anthropic-beta": "x-future-2099-01-01,context-1m-2025-08-07",
        "X-Claude-Code-Session-Id": "abc",
        "authorization": "Bearer client-secret",
        "x-api-key": "client-key",
        "anthropic-version": "1999-01-01",
        "content-length": "12",
    }
    headers = upstream_request_headers(forwarded, api_version="2023-06-01", api_key=SecretStr("sk-upstream"))
    assert headers == {
        "anthropic-beta": "x-future-2099-01-01,context-1m-2025-08-07",
        "x-claude-code-session-id": "abc",
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "x-api-key": "sk-upstream",
    }


def test_without_a_key_no_credential_is_sent() -> None:
    headers = upstream_request_headers({"x-api-key": "client"}, api_version="2026-10-21", api_key=None)
    assert "x-api-key" not in headers


def test_response_headers_allowlist() -> None:
    upstream = [
        ("Retry-After", "3"),
        ("retry-after-ms", "3000"),
        ("x-should-retry", "false"),
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-organization-id", "org"),
        ("request-id", "req_upstream"),
        ("content-type", "application/json"),
    ]
    assert response_headers(upstream) == {"retry-after": "3", "retry-after-ms": "3000", "x-should-retry": "false"}


def test_our_own_headers_never_reach_a_provider() -> None:
    forwarded = {"x-switchboard-agent": "coder", "X-Switchboard-Future": "1", "x-switchboardish": "kept"}
    headers = upstream_request_headers(forwarded, api_version="2023-06-01", api_key=None)
    assert "x-switchboard-agent" not in headers and "x-switchboard-future" not in headers
    assert headers["x-switchboardish"] == "kept"
