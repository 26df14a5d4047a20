"""Why a delivery to Lago failed, as the ``reason`` label of ``switchboard_metering_delivery_failures_total``."""

from __future__ import annotations

import pytest

from switchboard.metering.lago_client import classify
from switchboard.metering.metrics import failure_reason


@pytest.mark.parametrize(
    ("status", "network", "reason"),
    [
        (None, "timeout", "timeout"),
        (None, "connection", "connection"),
        (None, None, "connection"),
        (429, None, "http_429"),
        (500, None, "http_5xx"),
        (503, None, "http_5xx"),
        (401, None, "http_4xx"),
        (422, None, "http_4xx"),
    ],
)
def test_reasons(status: int | None, network: str | None, reason: str) -> None:
    assert failure_reason(status, network) == reason


def test_only_answers_that_left_something_unstored_are_failures() -> None:
    assert not classify(200, {}, b"{}", 1).failed
    duplicate = b'{"error_details": {"0": {"transaction_id": ["value_already_exist"]}}}'
    assert not classify(422, {}, duplicate, 1).failed, "already billed is success"
    assert classify(422, {}, b'{"error_details": {"0": {"code": ["invalid"]}}}', 1).failed
    assert classify(500, {}, b"", 1).failed
    assert classify(400, {}, b"bad", 1).failed
