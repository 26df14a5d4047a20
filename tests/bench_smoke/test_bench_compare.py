"""``bench.compare`` still runs a revision against the working tree and writes both sides (numbers never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

REPO = Path(__file__).resolve().parents[2]


def test_comparing_head_with_the_working_tree(tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.compare", "HEAD", "--reps", "2", "--duration", "0.5", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=220,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(out.read_text())
    assert set(result["samples"]) == {"HEAD", "working tree"}
    for name, rows in result["samples"].items():
        assert len(rows) == 2, name
        assert all(row["rps"] > 0 and row["p50_ms"] > 0 for row in rows), name
    assert "HEAD: p50" in run.stdout and "working tree: p50" in run.stdout
