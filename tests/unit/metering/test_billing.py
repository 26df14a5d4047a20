"""The biller against a scripted Lago: duplicates are success, refusals are kept, the rest is resent."""

from __future__ import annotations

from typing import Any

from switchboard.metering.billing import Biller
from switchboard.metering.lago_client import BatchAnswer, LagoClient
from switchboard.metering.lago_events import BillableMetric, EventMapper
from unit.metering.test_lago_events import completion


class ScriptedLago(LagoClient):
    def __init__(self, answers: list[BatchAnswer]) -> None:
        self.answers = answers
        self.sent: list[list[str]] = []

    async def send_batch(self, events: list[dict[str, Any]]) -> BatchAnswer:
        self.sent.append([event["transaction_id"] for event in events])
        return self.answers.pop(0)


async def _no_sleep(_: float) -> None:
    return None


def _biller(lago: ScriptedLago, batch_size: int = 100) -> Biller:
    mapper = EventMapper(BillableMetric.parse_all('{"u": ["input_tokens"]}'), "{user_id}")
    return Biller(lago, mapper, batch_size, sleep=_no_sleep)


async def test_retries_then_splits_a_422() -> None:
    lago = ScriptedLago(
        [
            BatchAnswer(503, retry=True),
            BatchAnswer(None, retry=True),
            BatchAnswer(422, duplicates=frozenset({0}), rejected={2: "422 bad"}),
            BatchAnswer(200, accepted=True),
        ]
    )
    completions = [completion(request_id=f"r{i}") for i in range(4)]
    rejections = await _biller(lago).bill(completions)
    assert list(rejections) == ["r2"] and rejections["r2"].lago_status == 422
    assert lago.sent[-1] == ["r1", "r3"]


async def test_a_refused_batch_rejects_each_completion() -> None:
    lago = ScriptedLago([BatchAnswer(400, reject_all="400 nope")])
    rejections = await _biller(lago).bill([completion(request_id="a"), completion(request_id="b")])
    assert {r: v.reason for r, v in rejections.items()} == {"a": "400 nope", "b": "400 nope"}


async def test_chunks_and_dedupes_within_a_batch() -> None:
    lago = ScriptedLago([BatchAnswer(200, accepted=True)] * 3)
    completions = [completion(request_id=f"r{i}") for i in range(5)] + [completion(request_id="r0")]
    assert await _biller(lago, batch_size=2).bill(completions) == {}
    assert lago.sent == [["r0", "r1"], ["r2", "r3"], ["r4"]]
