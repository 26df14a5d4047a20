"""Which credential a request carries, and whether it is a JWT: one rule for every service that accepts one."""

from __future__ import annotations

import base64
import json

import pytest

from switchboard.common.credentials import credential_from, looks_like_jwt


def segment(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("headers", "credential"),
    [
        ({"x-api-key": "key", "authorization": "Bearer other"}, "key"),
        ({"authorization": "Bearer  token "}, "token"),
        ({"authorization": "bearer token"}, "token"),
        ({"x-api-key": "Bearer key"}, "key"),
        ({"x-api-key": "  ", "authorization": "plain"}, "plain"),
        ({}, None),
    ],
)
def test_x_api_key_wins_and_bearer_is_optional(headers: dict[str, str], credential: str | None) -> None:
    assert credential_from(headers) == credential


def test_only_the_jws_compact_shape_is_a_jwt() -> None:
    token = f"{segment({'alg': 'RS256'})}.{segment({'sub': 'alice'})}.c2ln"
    assert looks_like_jwt(token)
    assert not looks_like_jwt("sk-ant-uc-abc")
    assert not looks_like_jwt(f"{segment({'typ': 'JWT'})}.{segment({})}.c2ln")  # no alg
    assert not looks_like_jwt("a.b.c")
    # Unsigned tokens have the shape, so they go to JWT verification, which refuses them.
    assert looks_like_jwt(f"{segment({'alg': 'none'})}.{segment({})}.")
