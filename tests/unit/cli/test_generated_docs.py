"""The reference pages under docs/ are generated; they must match what the code says now."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.cli.docs import GENERATED

DOCS = Path(__file__).resolve().parents[3] / "docs"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_committed_page_matches_the_code(name: str) -> None:
    committed = (DOCS / name).read_text() if (DOCS / name).exists() else ""
    assert committed == GENERATED[name](), f"docs/{name} is stale: run `./switchboard docs` and commit the result"


def test_every_settings_class_is_documented() -> None:
    page = GENERATED["configuration.md"]()
    for section in ("## api-gateway", "## orchestrator", "## tool-broker", "## metering"):
        assert section in page
    assert "`NATS_URL`" in page
    assert page.count("| `NATS_URL` |") == 1, "common settings appear once, not once per service"


def test_every_subject_and_event_is_documented() -> None:
    page = GENERATED["events.md"]()
    for text in ("`switchboard.llm.execute`", "`switchboard.<service>.ping`", "### CompletionRecorded", "### Envelope"):
        assert text in page
