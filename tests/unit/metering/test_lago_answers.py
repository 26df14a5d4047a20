"""How Lago's answers are classified (retry / split / refuse), and the backoff bounds."""

from __future__ import annotations

import json
import random

import pytest

from switchboard.metering.backoff import backoff_delay, server_wait_hint
from switchboard.metering.lago_client import classify

DUP = {"transaction_id": ["value_already_exist"]}


def _422(details: object) -> bytes:
    return json.dumps(
        {"status": 422, "error": "Unprocessable Entity", "code": "validation_errors", "error_details": details}
    ).encode()


def test_2xx_is_accepted() -> None:
    assert classify(200, {}, b"{}", 3).accepted


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(status: int) -> None:
    answer = classify(status, {}, b"", 1)
    assert answer.retry and not answer.accepted and answer.reject_all is None


def test_429_carries_the_reset_hint() -> None:
    assert classify(429, {"x-ratelimit-reset": "7"}, b"", 1).wait_hint == 7.0


def test_batch_422_splits_duplicates_from_refusals() -> None:
    answer = classify(422, {}, _422({"0": DUP, "2": {"timestamp": ["invalid_format"]}}), 4)
    assert answer.duplicates == {0}
    assert list(answer.rejected) == [2] and "invalid_format" in answer.rejected[2]
    assert not answer.retry and answer.reject_all is None


def test_single_event_duplicate_shape() -> None:
    assert classify(422, {}, _422(DUP), 1).duplicates == {0}


def test_whole_batch_422_and_other_4xx_refuse_everything() -> None:
    assert classify(422, {}, _422({"events": ["too_many_events"]}), 101).reject_all
    assert classify(400, {}, b"garbage", 2).reject_all


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_wrong_key_or_url_is_retried_not_dead_lettered(status: int) -> None:
    answer = classify(status, {}, b'{"code":"unauthorized"}', 2)
    assert answer.retry and answer.reject_all is None and not answer.rejected


def test_backoff_is_full_jitter_within_cap() -> None:
    rng = random.Random(1)
    for attempt in range(40):
        delays = [backoff_delay(attempt, rng=rng) for _ in range(50)]
        ceiling = min(30.0, 0.5 * 2**attempt)
        assert all(0.0 <= d <= ceiling for d in delays)
    assert max(backoff_delay(20, rng=rng) for _ in range(200)) > 15  # spread over the whole range


def test_server_hints() -> None:
    assert server_wait_hint({"retry-after": "2"}) == 2.0
    assert server_wait_hint({"x-ratelimit-reset": "999"}) == 30.0
    assert server_wait_hint({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
