"""The NATS-counter rate limiter and its usage feed against a real nats-server, each test on its own prefix."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, cast

import nats
import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from switchboard.api_gateway.ratelimit.limiter import RateLimiter
from switchboard.api_gateway.ratelimit.tiers import DEFAULT_TIERS, load_tiers
from switchboard.api_gateway.ratelimit.usage_feed import UsageFeed
from switchboard.common.events import CompletionRecorded
from switchboard.common.subjects import Subjects

# A fixed instant 20.25 s into a minute, so no test straddles a window boundary by accident.
MINUTE_START = 1_800_000_000 - 1_800_000_000 % 60
NOW = MINUTE_START + 20.25


def at(instant: float) -> Callable[[], float]:
    return lambda: instant


@pytest.fixture
def subjects() -> Subjects:
    return Subjects(f"rlt{secrets.token_hex(4)}")


@pytest.fixture
async def nc(nats_url: str, subjects: Subjects) -> AsyncIterator[Client]:
    connection = await nats.connect(nats_url)
    yield connection
    with contextlib.suppress(NotFoundError):
        await connection.jetstream().delete_stream(subjects.rate_limit_stream)
    await connection.drain()


@pytest.fixture
async def limiter(nc: Client, subjects: Subjects) -> RateLimiter:
    limiter = RateLimiter(nc, subjects, DEFAULT_TIERS, clock=at(NOW))
    await limiter.ensure_stream()
    return limiter


def user() -> str:
    return f"user-{secrets.token_hex(4)}"


async def counter(nc: Client, subjects: Subjects, subject: str) -> int:
    try:
        message = await nc.jetstream().get_last_msg(subjects.rate_limit_stream, subject)
    except NotFoundError:
        return 0
    return int(json.loads(message.data or b"{}")["val"])


async def counter_reaches(nc: Client, subjects: Subjects, subject: str, value: int) -> None:
    """Poll the server (no event to wait on: the change happens in another component) for up to 5 s."""
    for _ in range(250):
        if await counter(nc, subjects, subject) >= value:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{subject} stayed below {value}")


async def test_exactly_the_limit_of_twenty_requests_passes(limiter: RateLimiter) -> None:
    alice = user()
    decisions = [await limiter.admit(alice, "free") for _ in range(20)]
    assert [decision.allowed for decision in decisions] == [True] * 10 + [False] * 10
    assert [decision.remaining for decision in decisions[:10]] == list(range(9, -1, -1))
    eleventh = decisions[10]
    assert eleventh.reason == "10 requests per minute"
    assert eleventh.retry_after is not None
    assert 1 <= eleventh.retry_after <= 60
    assert eleventh.retry_after == 40  # ceil(60 - 20.25)


async def test_headers_follow_anthropic(limiter: RateLimiter) -> None:
    alice = user()
    first = await limiter.admit(alice, "free")
    assert first.reset == datetime.fromtimestamp(MINUTE_START + 60, UTC)
    reset = first.reset.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first.headers() == {
        "anthropic-ratelimit-requests-limit": "10",
        "anthropic-ratelimit-requests-remaining": "9",
        "anthropic-ratelimit-requests-reset": reset,
    }
    for _ in range(9):
        await limiter.admit(alice, "free")
    assert (await limiter.admit(alice, "free")).headers() == {
        "anthropic-ratelimit-requests-limit": "10",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": reset,
        "retry-after": "40",
    }


async def test_denied_requests_do_not_use_up_the_quota(nc: Client, subjects: Subjects, limiter: RateLimiter) -> None:
    alice = user()
    for _ in range(25):
        await limiter.admit(alice, "free")
    await limiter.settled()
    assert await counter(nc, subjects, subjects.rate_counter(alice, f"rpm.{int(NOW // 60)}")) == 10
    assert await counter(nc, subjects, subjects.rate_counter(alice, f"rpd.{int(NOW // 86400)}")) == 10


async def test_the_daily_cap(nc: Client, subjects: Subjects) -> None:
    tiers = load_tiers('{"capped": {"requests_per_minute": null, "requests_per_day": 3}}')
    limiter = RateLimiter(nc, subjects, tiers, clock=at(NOW))
    await limiter.ensure_stream()
    alice = user()
    decisions = [await limiter.admit(alice, "capped") for _ in range(5)]
    assert [decision.allowed for decision in decisions] == [True, True, True, False, False]
    denied = decisions[3]
    assert denied.reason == "3 requests per day"
    assert denied.retry_after == math.ceil((NOW // 86_400 + 1) * 86_400 - NOW)
    assert denied.limit is None
    assert denied.remaining is None
    assert set(denied.headers()) == {"anthropic-ratelimit-requests-reset", "retry-after"}


async def test_replicas_on_separate_connections_share_the_counters(
    nats_url: str, nc: Client, subjects: Subjects, limiter: RateLimiter
) -> None:
    other = await nats.connect(nats_url)
    try:
        replica = RateLimiter(other, subjects, DEFAULT_TIERS, clock=at(NOW))
        alice = user()
        admits = [(limiter if i % 2 else replica).admit(alice, "free") for i in range(20)]
        decisions = await asyncio.gather(*admits)
    finally:
        await other.drain()
    assert sum(decision.allowed for decision in decisions) == 10


async def test_tokens_over_the_minute_limit_block_the_next_request(limiter: RateLimiter) -> None:
    alice = user()
    await limiter.record_tokens(alice, 15_000)
    assert (await limiter.admit(alice, "free")).allowed
    await limiter.record_tokens(alice, 5_001)
    decision = await limiter.admit(alice, "free")
    assert not decision.allowed
    assert decision.reason == "20000 tokens per minute"
    assert decision.retry_after == 40


async def test_another_replicas_token_charges_count_once_the_cached_read_expires(
    nats_url: str, nc: Client, subjects: Subjects
) -> None:
    reader = RateLimiter(nc, subjects, DEFAULT_TIERS, clock=at(NOW), read_ttl=0.3)
    await reader.ensure_stream()
    other = await nats.connect(nats_url)
    try:
        charger = RateLimiter(other, subjects, DEFAULT_TIERS, clock=at(NOW))
        alice = user()
        assert (await reader.admit(alice, "free")).allowed  # reads (and caches) an empty token counter
        await charger.record_tokens(alice, 20_001)
        assert (await reader.admit(alice, "free")).allowed  # the cached read, younger than its TTL
        await asyncio.sleep(0.35)
        decision = await reader.admit(alice, "free")
    finally:
        await other.drain()
    assert not decision.allowed
    assert decision.reason == "20000 tokens per minute"


async def test_far_from_the_limit_a_replica_decides_on_its_last_acknowledged_total(
    nats_url: str, nc: Client, subjects: Subjects
) -> None:
    tiers = load_tiers('{"busy": {"requests_per_minute": 1000}}')
    fast = RateLimiter(nc, subjects, tiers, clock=at(NOW), read_ttl=0.3)
    await fast.ensure_stream()
    other = await nats.connect(nats_url)
    try:
        replica = RateLimiter(other, subjects, tiers, clock=at(NOW))
        await replica.ensure_stream()
        alice = user()
        assert (await fast.admit(alice, "busy")).remaining == 999  # waited for its increment: the estimate is fresh
        for _ in range(5):
            await replica.admit(alice, "busy")
        await replica.settled()
        # Within read_ttl the fast replica decides without asking NATS, so it has not seen the other's five yet...
        assert (await fast.admit(alice, "busy")).remaining == 998
        await fast.settled()
        await asyncio.sleep(0.35)
        # ...once its last acknowledgement is older than that, it waits for its increment and sees them.
        assert (await fast.admit(alice, "busy")).remaining == 1000 - 8
        await fast.settled()
    finally:
        await other.drain()
    assert await counter(nc, subjects, subjects.rate_counter(alice, f"rpm.{int(NOW // 60)}")) == 8


async def test_a_burst_across_the_limit_overruns_it_by_at_most_one_request_per_other_replica(
    nats_url: str, nc: Client, subjects: Subjects
) -> None:
    tiers = load_tiers('{"busy": {"requests_per_minute": 100}}')
    first = RateLimiter(nc, subjects, tiers, clock=at(NOW))
    await first.ensure_stream()
    other = await nats.connect(nats_url)
    try:
        second = RateLimiter(other, subjects, tiers, clock=at(NOW))
        await second.ensure_stream()
        alice = user()
        for i in range(89):  # in sequence: decided on each replica's estimate after its first
            assert (await (first if i % 2 else second).admit(alice, "busy")).allowed
        await asyncio.gather(first.settled(), second.settled())
        burst = await asyncio.gather(*((first if i % 2 else second).admit(alice, "busy") for i in range(40)))
        await asyncio.gather(first.settled(), second.settled())
    finally:
        await other.drain()
    # Each replica may have decided one request on its estimate (both at 90, the edge of the last tenth) whose
    # increment lands after the other replica's awaited ones filled the window: one extra at most, never more.
    allowed = sum(decision.allowed for decision in burst)
    assert 11 <= allowed <= 12
    assert await counter(nc, subjects, subjects.rate_counter(alice, f"rpm.{int(NOW // 60)}")) == 89 + allowed


async def test_one_replicas_requests_in_sequence_count_exactly(
    nc: Client, subjects: Subjects, limiter: RateLimiter
) -> None:
    tiers = load_tiers('{"busy": {"requests_per_minute": 200, "requests_per_day": 300}}')
    sequential = RateLimiter(nc, subjects, tiers, clock=at(NOW))
    await sequential.ensure_stream()
    alice = user()
    decisions = [await sequential.admit(alice, "busy") for _ in range(210)]
    assert [decision.allowed for decision in decisions] == [True] * 200 + [False] * 10
    assert [decision.remaining for decision in decisions[:200]] == list(range(199, -1, -1))
    await sequential.settled()
    assert await counter(nc, subjects, subjects.rate_counter(alice, f"rpm.{int(NOW // 60)}")) == 200
    assert await counter(nc, subjects, subjects.rate_counter(alice, f"rpd.{int(NOW // 86400)}")) == 200


class _Unreachable:
    """A JetStream context that fails the test if the limiter touches it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"an unlimited tier used JetStream ({name})")


async def test_an_unlimited_tier_never_touches_nats(subjects: Subjects) -> None:
    limiter = RateLimiter(cast(Client, _Unreachable()), subjects, DEFAULT_TIERS, clock=at(NOW))
    decisions = [await limiter.admit(user(), "enterprise") for _ in range(50)]
    assert all(decision.allowed for decision in decisions)
    assert decisions[0].headers() == {
        "anthropic-ratelimit-requests-reset": datetime.fromtimestamp(MINUTE_START + 60, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    }


async def test_an_unknown_tier_gets_the_default_tier(limiter: RateLimiter) -> None:
    alice = user()
    decisions = [await limiter.admit(alice, "no-such-tier") for _ in range(11)]
    assert decisions[0].limit == 10
    assert [decision.allowed for decision in decisions].count(True) == 10


async def test_a_new_minute_starts_a_fresh_window(nc: Client, subjects: Subjects) -> None:
    now = [NOW]
    limiter = RateLimiter(nc, subjects, DEFAULT_TIERS, clock=lambda: now[0])
    await limiter.ensure_stream()
    alice = user()
    for _ in range(10):
        assert (await limiter.admit(alice, "free")).allowed
    now[0] = MINUTE_START + 59.9
    blocked = await limiter.admit(alice, "free")
    assert not blocked.allowed
    assert blocked.retry_after == 1
    now[0] = MINUTE_START + 60
    fresh = await limiter.admit(alice, "free")
    assert fresh.allowed
    assert fresh.remaining == 9
    assert fresh.reset == datetime.fromtimestamp(MINUTE_START + 120, UTC)


async def test_nats_trouble_fails_open_and_warns_once(
    nats_url: str, subjects: Subjects, caplog: pytest.LogCaptureFixture
) -> None:
    closed = await nats.connect(nats_url)
    await closed.close()
    limiter = RateLimiter(closed, subjects, DEFAULT_TIERS, clock=at(NOW))
    with caplog.at_level(logging.WARNING, logger="switchboard.api_gateway.ratelimit.limiter"):
        decisions = [await limiter.admit(user(), "free") for _ in range(3)]
        await limiter.record_tokens(user(), 10)
    assert all(decision.allowed for decision in decisions)
    assert decisions[0].limit == 10
    assert decisions[0].remaining is None
    assert len(caplog.records) == 1


def completion(user_id: str, **tokens: int) -> CompletionRecorded:
    return CompletionRecorded(
        request_id=f"req_{secrets.token_hex(4)}",
        user_id=user_id,
        requested_model="claude-test",
        status="succeeded",
        http_status=200,
        started_at=datetime.now(UTC),
        latency_ms=1.0,
        **tokens,
    )


async def test_the_usage_feed_charges_completions_to_the_token_counter(
    nats_url: str, nc: Client, subjects: Subjects, limiter: RateLimiter
) -> None:
    feed = UsageFeed(limiter, subjects)
    await feed.start(nc)
    publisher = await nats.connect(nats_url)
    alice = user()
    tpm = subjects.rate_counter(alice, f"tpm.{int(NOW // 60)}")
    event = completion(
        alice, input_tokens=100, output_tokens=20, cache_creation_input_tokens=3, cache_read_input_tokens=5000
    )
    try:
        await publisher.publish(subjects.completion_recorded(alice), event.model_dump_json().encode())
        await publisher.publish(subjects.completion_recorded(alice), event.model_dump_json().encode())  # a retry
        await publisher.publish(subjects.completion_recorded(alice), b"not json")
        second = completion(alice, input_tokens=7)
        await publisher.publish(subjects.completion_recorded(alice), second.model_dump_json().encode())
        await publisher.flush()
        await counter_reaches(nc, subjects, tpm, 130)
        await asyncio.sleep(0.1)  # anything counted twice would show up by now
    finally:
        await publisher.drain()
        await feed.stop()
    assert await counter(nc, subjects, tpm) == 123 + 7
