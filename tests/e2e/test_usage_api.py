"""``GET /api/v1/usage`` through the gateway, answered from metering's ledger over NATS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fakes.anthropic_provider import FakeAnthropic
from support.processes import wait_until
from support.stack import Stack
from switchboard.cli.embedded_nats import EmbeddedNats

TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def metered(
    tmp_path_factory: pytest.TempPathFactory, nats_server: EmbeddedNats, fake_anthropic: FakeAnthropic
) -> Iterator[Stack]:
    """A stack whose metering keeps the ledger only (no Lago configured), with a few requests already served."""
    stack = Stack(workdir=tmp_path_factory.mktemp("usage"), nats_url=nats_server.url, fake=fake_anthropic)
    try:
        stack.start(orchestrators=1)
        stack.add_metering()
        for words, model in ((3, "claude-opus-5"), (5, "claude-opus-5"), (2, "claude-haiku-5")):
            body = {
                "model": model,
                "max_tokens": 32,
                "messages": [{"role": "user", "content": f"[[fake:words={words}]]"}],
            }
            answer = httpx.post(f"{stack.base_url}/v1/messages", json=body, headers=headers(stack.api_key), timeout=10)
            assert answer.status_code == 200
        wait_until(lambda: recorded(stack) == 3, timeout=30, what="three requests in the ledger")
        yield stack
    finally:
        stack.stop()


def recorded(stack: Stack) -> int | None:
    """Requests in the caller's ledger; None while metering is still starting (529)."""
    answer = usage(stack, stack.api_key)
    return int(answer.json()["totals"]["requests"]) if answer.status_code == httpx.codes.OK else None


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key, "anthropic-version": "2023-06-01"}


def usage(stack: Stack, key: str, **params: str) -> httpx.Response:
    return httpx.get(f"{stack.base_url}/api/v1/usage", params=params, headers=headers(key), timeout=10)


def test_the_caller_sees_totals_by_day_and_by_model(metered: Stack) -> None:
    report: dict[str, Any] = usage(metered, metered.api_key).json()
    assert report["user_id"] == metered.user_id
    assert report["end"] == TODAY.isoformat() and report["start"] == (TODAY - timedelta(days=29)).isoformat()
    totals = report["totals"]
    assert totals["requests"] == 3 and totals["output_tokens"] == 3 + 5 + 2
    assert [(day["key"], day["requests"]) for day in report["by_day"]] == [(TODAY.isoformat(), 3)]
    by_model = {model["key"]: (model["requests"], model["output_tokens"]) for model in report["by_model"]}
    assert by_model == {"claude-opus-5": (2, 8), "claude-haiku-5": (1, 2)}


def test_a_range_without_usage_is_zero(metered: Stack) -> None:
    report = usage(metered, metered.api_key, start="2020-01-01", end="2020-01-31").json()
    assert report["totals"]["requests"] == 0 and report["by_day"] == [] and report["by_model"] == []


def test_administrators_read_any_user_and_everyone(metered: Stack) -> None:
    alice = usage(metered, metered.admin_key, user_id=metered.user_id).json()
    everyone = usage(metered, metered.admin_key, user_id="*").json()
    assert alice["totals"]["requests"] == 3 and alice["user_id"] == metered.user_id
    assert everyone["user_id"] is None and everyone["totals"]["requests"] >= 3


@pytest.mark.parametrize(
    ("params", "status", "error_type", "words"),
    [
        ({"user_id": "operator"}, 403, "permission_error", "administrators"),
        ({"start": "2026-13-01"}, 400, "invalid_request_error", "start: expected a date"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, 400, "invalid_request_error", "after end"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, 400, "invalid_request_error", "at most 366 days"),
    ],
)
def test_refusals_are_anthropic_shaped(
    metered: Stack, params: dict[str, str], status: int, error_type: str, words: str
) -> None:
    answer = usage(metered, metered.api_key, **params)
    assert answer.status_code == status
    body = answer.json()
    assert body["type"] == "error" and body["error"]["type"] == error_type and words in body["error"]["message"]


def test_without_metering_the_answer_is_529(stack: Stack) -> None:
    answer = usage(stack, stack.api_key)
    assert answer.status_code == 529
    assert answer.json()["error"]["message"] == "Usage is unavailable: no metering service is running."


def test_a_missing_key_is_401(metered: Stack) -> None:
    assert httpx.get(f"{metered.base_url}/api/v1/usage", timeout=5).status_code == 401
