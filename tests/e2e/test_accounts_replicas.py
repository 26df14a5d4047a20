"""Accounts across gateway replicas: one rate limit for all of them, revocation seen by all at once."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from support.stack import Stack
from switchboard.api_gateway.keys.admin import create_api_key
from switchboard.api_gateway.settings import GatewaySettings

VERSION = {"anthropic-version": "2023-06-01"}
MESSAGE = {"model": "demo", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


def test_free_tier_allows_exactly_ten_requests_a_minute_across_two_gateways(private_stack: Stack) -> None:
    private_stack.extra_env["SWITCHBOARD_DEMO"] = "1"
    private_stack.start(orchestrators=1)
    second = private_stack.add_gateway()
    settings = GatewaySettings.model_validate(private_stack.env())
    key = asyncio.run(create_api_key(settings, user_id="free-user", tier="free")).secret
    urls = [private_stack.base_url, second] * 10

    def call(url: str) -> httpx.Response:
        return httpx.post(f"{url}/v1/messages", json=MESSAGE, headers={**VERSION, "x-api-key": key}, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(call, urls))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 10 + [429] * 10, statuses
    for response in responses:
        if response.status_code == 429:
            assert response.json()["error"]["type"] == "rate_limit_error"
            assert 1 <= int(response.headers["retry-after"]) <= 60


def test_a_revoked_key_stops_on_every_replica_within_a_second(private_stack: Stack) -> None:
    private_stack.extra_env["SWITCHBOARD_DEMO"] = "1"
    private_stack.start(orchestrators=1)
    second = private_stack.add_gateway()
    settings = GatewaySettings.model_validate(private_stack.env())
    created = asyncio.run(create_api_key(settings, user_id="leaver", tier="enterprise"))
    headers = {**VERSION, "x-api-key": created.secret}
    for url in (private_stack.base_url, second):  # both replicas now hold the key in their caches
        assert httpx.post(f"{url}/v1/messages", json=MESSAGE, headers=headers).status_code == 200
    revoke = httpx.delete(
        f"{private_stack.base_url}/api/v1/api-keys/{created.key_id}", headers={"x-api-key": private_stack.admin_key}
    )
    assert revoke.status_code == 204
    revoked_at = time.monotonic()
    for url in (second, private_stack.base_url):
        while httpx.post(f"{url}/v1/messages", json=MESSAGE, headers=headers).status_code != 401:
            assert time.monotonic() - revoked_at < 1.0, f"{url} still accepts the revoked key"
            time.sleep(0.05)


def test_tokens_per_minute_count_what_the_orchestrator_reported(private_stack: Stack) -> None:
    private_stack.extra_env["SWITCHBOARD_DEMO"] = "1"
    private_stack.extra_env["SWITCHBOARD_TIERS"] = json.dumps(
        {"tiny": {"requests_per_minute": 100, "requests_per_day": None, "tokens_per_minute": 50}}
    )
    private_stack.start(orchestrators=1)
    settings = GatewaySettings.model_validate(private_stack.env())
    key = asyncio.run(create_api_key(settings, user_id="small-budget", tier="tiny")).secret
    long_prompt = {**MESSAGE, "messages": [{"role": "user", "content": "word " * 200}]}
    url = f"{private_stack.base_url}/v1/messages"
    headers = {**VERSION, "x-api-key": key}
    assert httpx.post(url, json=long_prompt, headers=headers).status_code == 200  # ~250 tokens, over 50
    deadline = time.monotonic() + 5
    while (response := httpx.post(url, json=MESSAGE, headers=headers)).status_code == 200:
        assert time.monotonic() < deadline, "the token budget was never applied"
        time.sleep(0.1)
    assert response.status_code == 429
    assert "tokens per minute" in response.json()["error"]["message"]
    assert int(response.headers["retry-after"]) >= 1
