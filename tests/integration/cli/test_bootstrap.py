"""The repo-root ``./switchboard`` script works from any directory once .venv exists."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_switchboard_script_runs_the_cli_from_elsewhere(tmp_path: Path) -> None:
    result = subprocess.run(
        ["sh", str(ROOT / "switchboard"), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: switchboard" in result.stdout
    for command in ("up", "keys", "docs", "tap"):
        assert command in result.stdout


def test_scripts_are_executable() -> None:
    for script in ("switchboard", "check", ".ci/run"):
        assert (ROOT / script).stat().st_mode & 0o111, script
