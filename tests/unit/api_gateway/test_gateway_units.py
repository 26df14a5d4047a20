"""Pure functions of the gateway: credential parsing, header forwarding, body checks, paging, settings."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from switchboard.api_gateway.forwarding import forwardable_headers
from switchboard.api_gateway.keys.secrets import hash_secret, looks_like_key, mint_secret
from switchboard.api_gateway.relay import with_request_id
from switchboard.api_gateway.settings import GatewaySettings
from switchboard.common.credentials import credential_from
from switchboard.common.errors import error_type_for_status


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([("x-api-key", "k1")], "k1"),
        ([("x-api-key", "Bearer k1")], "k1"),
        ([("authorization", "Bearer k2")], "k2"),
        ([("authorization", "bearer   k2 ")], "k2"),
        ([("x-api-key", "k1"), ("authorization", "Bearer k2")], "k1"),
        ([("x-api-key", ""), ("authorization", "Bearer k2")], "k2"),
        ([], None),
        ([("authorization", "Bearer")], "Bearer"),
    ],
)
def test_credential_precedence(raw: list[tuple[str, str]], expected: str | None) -> None:
    assert credential_from(Headers(raw=[(k.encode(), v.encode()) for k, v in raw])) == expected


def test_forwarding_keeps_the_open_set_and_drops_credentials() -> None:
    headers = Headers(
        raw=[
            (b"x-api-key", b"secret"),
            (b"authorization", b"Bearer secret"),
            (b"anthropic-beta", b"a-1"),
            (b"anthropic-beta", b"b-2"),
            (b"anthropic-version", b"2026-10-21"),
            (b"x-claude-code-session-id", b"s"),
            (b"x-custom-tenant", b"t"),
            (b"host", b"gateway"),
            (b"content-length", b"10"),
        ]
    )
    assert forwardable_headers(headers) == {
        "anthropic-beta": "a-1,b-2",
        "anthropic-version": "2026-10-21",
        "x-claude-code-session-id": "s",
        "x-custom-tenant": "t",
    }


def test_minted_keys_have_the_documented_shape_and_unique_hashes() -> None:
    keys = {mint_secret() for _ in range(100)}
    assert len(keys) == 100
    assert all(key.startswith("sk-ant-uc-") and looks_like_key(key) for key in keys)
    assert len({hash_secret(key) for key in keys}) == 100
    assert not looks_like_key("sk-ant-api03-abc")


def test_provider_error_bodies_keep_their_words_but_carry_our_request_id() -> None:
    error = '{"type":"invalid_request_error","message":"prompt is too long: 5 > 4"}'
    upstream = f'{{"type":"error","error":{error},"request_id":"req_up"}}'
    body = with_request_id(upstream, "req_ours", 400)
    assert body.decode() == f'{{"type":"error","error":{error},"request_id":"req_ours"}}'
    assert b'"api_error"' in with_request_id("<html>bad gateway</html>", "req_ours", 502)


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, "invalid_request_error"), (401, "authentication_error"), (404, "not_found_error"),
     (413, "request_too_large"), (422, "invalid_request_error"), (429, "rate_limit_error"), (500, "api_error"),
     (502, "api_error"), (504, "timeout_error"), (529, "overloaded_error")],
)  # fmt: skip
def test_status_to_error_type(status: int, error_type: str) -> None:
    assert error_type_for_status(status) == error_type


def test_settings_defaults_and_database_urls() -> None:
    settings = GatewaySettings.model_validate({})
    assert settings.port == 8080
    assert settings.client_ping_interval == 15.0
    assert settings.max_body_bytes == 32 * 1024 * 1024
    assert settings.resolved_database_url().startswith("sqlite+aiosqlite:///")
    pg = GatewaySettings.model_validate({"DATABASE_URL": "postgresql://u@h/db"})
    assert pg.resolved_database_url() == "postgresql+asyncpg://u@h/db"
