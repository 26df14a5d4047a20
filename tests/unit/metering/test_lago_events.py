"""Completion -> Lago event mapping: deterministic ids, epoch-second timestamps, configured properties."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from switchboard.common.events import CompletionRecorded, ToolCallRecord
from switchboard.metering.lago_events import DEFAULT_METRICS, BillableMetric, EventMapper


def completion(**overrides: object) -> CompletionRecorded:
    fields: dict[str, object] = {
        "event_id": "completion-req_1",
        "request_id": "req_1",
        "user_id": "alice",
        "requested_model": "claude-sonnet",
        "upstream_model": "gpt-x",
        "provider": "openai",
        "status": "succeeded",
        "http_status": 200,
        "input_tokens": 10,
        "output_tokens": 20,
        "cache_creation_input_tokens": 3,
        "cache_read_input_tokens": 4,
        "tool_use_count": 2,
        "mcp_tool_calls": [ToolCallRecord(server_id="s", name="t", duration_ms=1.0)],
        "started_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "occurred_at": datetime(2025, 1, 2, 3, 4, 6, 700000, tzinfo=UTC),
        "latency_ms": 1234.5,
        "byok": True,
    }
    return CompletionRecorded.model_validate({**fields, **overrides})


def test_default_metric_event() -> None:
    mapper = EventMapper(BillableMetric.parse_all(json.dumps(DEFAULT_METRICS)), "{user_id}")
    [event] = mapper.events(completion())
    assert event == {
        "transaction_id": "req_1",
        "external_subscription_id": "alice",
        "code": "switchboard_usage",
        "timestamp": 1735787046,
        "properties": {
            "model": "claude-sonnet",
            "upstream_model": "gpt-x",
            "provider": "openai",
            "input_tokens": 10,
            "output_tokens": 20,
            "cache_creation_input_tokens": 3,
            "cache_read_input_tokens": 4,
            "execution_ms": 1234.5,
            "tool_calls": 3,
            "byok": True,
            "status": "succeeded",
        },
    }


def test_same_completion_same_events() -> None:
    mapper = EventMapper(BillableMetric.parse_all('{"a": ["input_tokens"]}'), "sub-{user_id}")
    assert mapper.events(completion()) == mapper.events(completion())
    assert mapper.events(completion())[0]["external_subscription_id"] == "sub-alice"


def test_the_billing_account_on_the_users_record_beats_the_template() -> None:
    mapper = EventMapper(BillableMetric.parse_all('{"a": ["input_tokens"]}'), "sub-{user_id}")
    (event,) = mapper.events(completion(billing_account="acme-enterprise"))
    assert event["external_subscription_id"] == "acme-enterprise"


def test_several_metrics_get_one_transaction_id_each() -> None:
    mapper = EventMapper(
        BillableMetric.parse_all('{"in": ["input_tokens"], "out": ["output_tokens", "model"]}'), "{user_id}"
    )
    events = mapper.events(completion())
    assert [(e["transaction_id"], e["code"], e["properties"]) for e in events] == [
        ("req_1:in", "in", {"input_tokens": 10}),
        ("req_1:out", "out", {"output_tokens": 20, "model": "claude-sonnet"}),
    ]


@pytest.mark.parametrize("text", ["{}", "[]", '{"a": ["nope"]}', '{"a": "model"}', "not json"])
def test_bad_metric_settings_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        BillableMetric.parse_all(text)
