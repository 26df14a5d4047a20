"""Billing survives faults: real completions through the real stack, counted against what Lago recorded.

Every scenario ends with the same count, by ``transaction_id`` (= request id) against the requests the gateway
answered: events lost = 0, events billed twice = 0, and metering's ledger totals equal Lago's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.anthropic_provider import FakeAnthropic
from fakes.lago import FakeLago
from support.metering import metering_env
from support.processes import wait_until
from support.stack import Stack
from support.traffic import Traffic, billing_counts
from switchboard.cli.embedded_nats import EmbeddedNats

pytestmark = pytest.mark.timeout(240)  # a 30-second outage plus catching up is longer than the usual bound

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


@pytest.fixture
def lago() -> Iterator[FakeLago]:
    with FakeLago() as fake:
        yield fake


def billing_env(lago: FakeLago) -> dict[str, str]:
    return metering_env(lago, lago_timeout=2)


def start_stack(stack: Stack, lago: FakeLago, meterings: int = 1) -> None:
    stack.start(orchestrators=1)
    for _ in range(meterings):
        stack.add_metering(**billing_env(lago))


def health(stack: Stack) -> dict[str, Any]:
    component: dict[str, Any] = httpx.get(f"{stack.base_url}/v1/health", timeout=5).json()["components"]["metering"]
    return component


def settled(stack: Stack, lago: FakeLago, answered: list[str], timeout: float = 90) -> None:
    """Wait until every answered request is billed and metering has nothing left pending."""

    def done() -> bool:
        lost, _ = billing_counts(answered, lago.transaction_ids())
        return not lost and health(stack).get("pending") == 0

    wait_until(done, timeout=timeout, what="every answered request to be billed", interval=0.25)


def assert_exactly_once(stack: Stack, lago: FakeLago, answered: list[str]) -> None:
    lost, twice = billing_counts(answered, lago.transaction_ids())
    assert (len(lost), len(twice)) == (0, 0), f"lost {lost[:5]}, billed twice {twice[:5]}"
    today = datetime.now(UTC).date().isoformat()
    ledger = httpx.get(
        f"{stack.base_url}/api/v1/usage", params={"start": today, "end": today},
        headers={"x-api-key": stack.api_key}, timeout=10,
    ).json()["totals"]  # fmt: skip
    billed = [event for event in lago.events() if event["external_subscription_id"] == stack.user_id]
    assert ledger["requests"] == len(billed) >= len(answered)
    for field in TOKEN_FIELDS:
        assert ledger[field] == lago.total(field, stack.user_id), field


def test_lago_down_for_30_seconds_under_steady_traffic(private_stack: Stack, lago: FakeLago) -> None:
    start_stack(private_stack, lago)
    traffic = Traffic(private_stack.base_url, private_stack.api_key, interval=0.2)
    traffic.start()
    time.sleep(2)
    lago.set_down("503")
    time.sleep(20)
    during = health(private_stack)
    time.sleep(10)
    lago.set_down(None)
    time.sleep(2)
    answered = traffic.stop()
    settled(private_stack, lago, answered)
    assert during["lago"] == "unreachable" and during["pending"] > 0 and during["lag_seconds"] > 10
    assert len(answered) > 100
    assert_exactly_once(private_stack, lago, answered)
    assert health(private_stack)["lag_seconds"] == 0


def test_metering_killed_mid_batch_and_restarted(private_stack: Stack, lago: FakeLago) -> None:
    start_stack(private_stack, lago)
    traffic = Traffic(private_stack.base_url, private_stack.api_key)
    traffic.start()
    time.sleep(2)
    lago.delay_next(1, 5.0)  # the next batch is stored by Lago but its answer never reaches the killed process
    wait_until(lambda: lago.batch_calls > 0, timeout=10, what="a batch in flight")
    time.sleep(0.5)
    private_stack.meterings[0].kill()
    time.sleep(2)
    private_stack.add_metering(**billing_env(lago))
    time.sleep(2)
    answered = traffic.stop()
    settled(private_stack, lago, answered)
    assert_exactly_once(private_stack, lago, answered)


def test_two_metering_replicas_share_the_work(private_stack: Stack, lago: FakeLago) -> None:
    start_stack(private_stack, lago, meterings=2)
    traffic = Traffic(private_stack.base_url, private_stack.api_key, interval=0.02)
    traffic.start()
    time.sleep(8)
    answered = traffic.stop()
    settled(private_stack, lago, answered)
    assert len(answered) > 100
    assert_exactly_once(private_stack, lago, answered)


def test_nats_restarted_while_completions_flow(tmp_path: Path, fake_anthropic: FakeAnthropic, lago: FakeLago) -> None:
    server = EmbeddedNats(store_dir=tmp_path / "nats")
    server.start()
    stack = Stack(workdir=tmp_path / "stack", nats_url=server.url, fake=fake_anthropic)
    try:
        start_stack(stack, lago)
        traffic = Traffic(stack.base_url, stack.api_key)
        traffic.start()
        time.sleep(3)
        server.stop()
        time.sleep(2)
        server = EmbeddedNats(store_dir=tmp_path / "nats", port=server.port, monitor_port=server.monitor_port)
        server.start()  # JetStream comes back from its files on disk
        stack.wait_healthy(timeout=60)
        time.sleep(3)
        answered = traffic.stop()
        settled(stack, lago, answered, timeout=120)
        assert traffic.refused > 0, "the outage was real: some requests were refused while NATS was down"
        assert_exactly_once(stack, lago, answered)
    finally:
        stack.stop()
        server.stop()


def test_a_refused_completion_is_dead_lettered_then_replayed_with_the_cli(private_stack: Stack, lago: FakeLago) -> None:
    start_stack(private_stack, lago)
    wait_until(lambda: health(private_stack).get("status") == "ok", timeout=30, what="metering up")
    lago.fail_next(1, status=400)  # a permanent refusal of the next batch: say, a customer Lago does not know
    body = {"model": "claude-opus-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(
        f"{private_stack.base_url}/v1/messages", json=body,
        headers={"x-api-key": private_stack.api_key, "anthropic-version": "2023-06-01"}, timeout=10,
    )  # fmt: skip
    request_id = answer.headers["request-id"]
    wait_until(lambda: health(private_stack)["dead_letters"] == 1, timeout=30, what="the dead letter")
    assert request_id not in lago.transaction_ids()
    assert "dead-lettered" in private_stack.logs() or "dead letter" in private_stack.logs().lower()
    replay = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "metering", "replay", "--server", private_stack.nats_url],
        env={**os.environ, "SWITCHBOARD_SUBJECT_PREFIX": private_stack.prefix},  # noqa: TID251 - the child's env
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.startswith("replayed 1 dead-lettered completion ")
    settled(private_stack, lago, [request_id])
    assert_exactly_once(private_stack, lago, [request_id])
    assert health(private_stack)["dead_letters"] == 0


def test_usage_is_billed_to_the_account_on_the_users_record(private_stack: Stack, lago: FakeLago) -> None:
    start_stack(private_stack, lago)
    url = f"{private_stack.base_url}/api/v1/users/{private_stack.user_id}/billing"
    refused = httpx.put(url, json={"billing_account": "sub_x"}, headers={"x-api-key": private_stack.api_key})
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_error"
    admin = {"x-api-key": private_stack.admin_key}
    invalid = httpx.put(url, json={"billing_account": "has space"}, headers=admin)
    assert invalid.status_code == 400 and invalid.json()["error"]["message"].startswith("billing_account")
    answered: list[str] = []
    for account in ("sub_alice_2026", None):
        set_account = httpx.put(url, json={"billing_account": account}, headers=admin)
        assert set_account.json() == {"user_id": private_stack.user_id, "billing_account": account}
        body = {"model": "claude-opus-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
        reply = httpx.post(
            f"{private_stack.base_url}/v1/messages", json=body,
            headers={"x-api-key": private_stack.api_key, "anthropic-version": "2023-06-01"}, timeout=10,
        )  # fmt: skip
        answered.append(reply.headers["request-id"])
    settled(private_stack, lago, answered)
    accounts = {event["transaction_id"]: event["external_subscription_id"] for event in lago.events()}
    assert [accounts[request_id] for request_id in answered] == ["sub_alice_2026", private_stack.user_id]
