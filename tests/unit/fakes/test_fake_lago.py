"""The fake Lago speaks Lago's event API: auth, validation, dedupe, all-or-nothing batches, injected faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.lago import FakeLago


@pytest.fixture
def lago() -> Iterator[FakeLago]:
    with FakeLago() as fake:
        yield fake


def _post(lago: FakeLago, path: str, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or lago.api_key}"}
    return httpx.post(f"{lago.url}{path}", json=body, headers=headers, timeout=5)


def _event(txn: str, **extra: Any) -> dict[str, Any]:
    return {"transaction_id": txn, "external_subscription_id": "sub", "code": "c", "timestamp": 1, **extra}


def test_rejects_a_wrong_key(lago: FakeLago) -> None:
    answer = _post(lago, "/api/v1/events", {"event": _event("a")}, key="nope")
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthorized"


def test_a_duplicate_single_event_is_value_already_exist(lago: FakeLago) -> None:
    assert _post(lago, "/api/v1/events", {"event": _event("a")}).status_code == 200
    answer = _post(lago, "/api/v1/events", {"event": _event("a")})
    assert answer.status_code == 422
    assert answer.json() == {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": {"transaction_id": ["value_already_exist"]},
    }
    assert lago.transaction_ids() == ["a"]


def test_a_batch_is_all_or_nothing_with_errors_by_index(lago: FakeLago) -> None:
    lago.preload(_event("dup"))
    batch = [_event("new"), _event("dup"), _event("iso", timestamp="2025-01-01T00:00:00Z"), {"code": "c"}]
    answer = _post(lago, "/api/v1/events/batch", {"events": batch})
    assert answer.status_code == 422
    assert answer.json()["error_details"] == {
        "1": {"transaction_id": ["value_already_exist"]},
        "2": {"timestamp": ["invalid_format"]},
        "3": {"transaction_id": ["value_is_mandatory"]},
    }
    assert lago.transaction_ids() == ["dup"]
    assert _post(lago, "/api/v1/events/batch", {"events": [_event("new", timestamp="17.5")]}).status_code == 200


def test_batch_size_limits(lago: FakeLago) -> None:
    too_many = _post(lago, "/api/v1/events/batch", {"events": [_event(str(i)) for i in range(101)]})
    assert too_many.json()["error_details"] == {"events": ["too_many_events"]}
    assert _post(lago, "/api/v1/events/batch", {"events": []}).json()["error_details"] == {"events": ["no_events"]}


def test_faults_then_recovery(lago: FakeLago) -> None:
    lago.fail_next(1)
    lago.rate_limit_next(1, reset_seconds=3)
    assert _post(lago, "/api/v1/events/batch", {"events": [_event("a")]}).status_code == 500
    limited = _post(lago, "/api/v1/events/batch", {"events": [_event("a")]})
    assert (limited.status_code, limited.headers["x-ratelimit-reset"]) == (429, "3")
    lago.refuse("a")
    assert _post(lago, "/api/v1/events/batch", {"events": [_event("a")]}).json()["error_details"] == {
        "0": {"properties": ["invalid_value"]}
    }
    lago.accept_all()
    lago.set_down("503")
    assert _post(lago, "/api/v1/events/batch", {"events": [_event("a")]}).status_code == 503
    lago.set_down("drop")
    with pytest.raises(httpx.TransportError):
        _post(lago, "/api/v1/events/batch", {"events": [_event("a")]})
    lago.set_down(None)
    assert _post(lago, "/api/v1/events/batch", {"events": [_event("a", properties={"n": 2})]}).status_code == 200
    assert lago.total("n", "sub") == 2


def test_a_slow_answer_still_stores(lago: FakeLago) -> None:
    lago.delay_next(1, 1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{lago.url}/api/v1/events/batch",
            json={"events": [_event("slow")]},
            headers={"Authorization": f"Bearer {lago.api_key}"},
            timeout=0.2,
        )
    assert lago.transaction_ids() == ["slow"]


def test_probe_endpoint(lago: FakeLago) -> None:
    answer = httpx.get(
        f"{lago.url}/api/v1/billable_metrics?per_page=1", headers={"Authorization": f"Bearer {lago.api_key}"}
    )
    assert answer.status_code == 200
