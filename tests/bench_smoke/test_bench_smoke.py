"""The benchmark still runs end to end and writes results that parse (its numbers are never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)  # LiteLLM's first start, and wrk's first download

REPO = Path(__file__).resolve().parents[2]
TARGETS = {f"{system}-{path}" for system in ("direct", "switchboard", "litellm") for path in ("native", "translated")}


def test_the_quick_bench_measures_every_target(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads((tmp_path / "quick.json").read_text())
    medians = result["summary"]["medians"]
    assert set(medians) == TARGETS
    for name, row in medians.items():
        assert row["c8_rps"] > 0 and row["c8_stream_rps"] > 0, name
        assert row["p50_ms"] > 0 and row["ttft_ms"] > 0, name
        assert not row["c8_errors"] and not row["c8_stream_errors"], name
    assert set(result["summary"]["ratios"]) == {"native", "translated"}
    assert result["summary"]["memory"]["services_idle_mb"] > 0
    table = (tmp_path / "quick.md").read_text()
    assert "| switchboard-native |" in table and "Switchboard / LiteLLM" in table
