"""Anthropic list semantics of ``/v1/models`` paging (the SDK paginator stops only on ``has_more: false``)."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.api_gateway.model_catalog import paginate

IDS = ["a", "b", "c", "d", "e"]
MODELS: list[dict[str, Any]] = [{"id": model_id, "type": "model"} for model_id in IDS]


def test_forward_paging_visits_every_model_once() -> None:
    seen: list[str] = []
    after: str | None = None
    while True:
        page = paginate(MODELS, limit=2, after_id=after, before_id=None)
        seen += [model["id"] for model in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == IDS


@pytest.mark.parametrize(
    ("limit", "after", "before", "ids", "has_more"),
    [
        (20, None, None, IDS, False),
        (2, None, None, ["a", "b"], True),
        (2, "d", None, ["e"], False),
        (2, "e", None, [], False),
        (2, None, "d", ["b", "c"], True),
        (5, None, "c", ["a", "b"], False),
        (2, "zz", None, [], False),
    ],
)
def test_page_shape(limit: int, after: str | None, before: str | None, ids: list[str], has_more: bool) -> None:
    page = paginate(MODELS, limit=limit, after_id=after, before_id=before)
    assert [model["id"] for model in page["data"]] == ids
    assert page["has_more"] is has_more
    assert page["first_id"] == (ids[0] if ids else None)
    assert page["last_id"] == (ids[-1] if ids else None)
