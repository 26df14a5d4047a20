"""The child-process supervisor of ``switchboard up``, with stand-in children."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from switchboard.cli.supervisor import Supervisor, tail

ENV = dict(os.environ)  # noqa: TID251 - children need PATH and the like


def test_notices_a_child_that_exits_and_keeps_its_output(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path / "logs", grace_seconds=5)
    try:
        supervisor.start("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], ENV)
        supervisor.start("crasher", [sys.executable, "-c", "print('boom'); raise SystemExit(3)"], ENV)
        deadline = time.monotonic() + 10
        while (dead := supervisor.exited()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert dead is not None
        assert dead.name == "crasher"
        assert dead.process.returncode == 3
        assert "boom" in tail(dead.log_path)
    finally:
        supervisor.stop_all()


def test_stop_all_terminates_then_kills(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path / "logs", grace_seconds=0.5)
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    polite = supervisor.start("polite", [sys.executable, "-c", "import time; time.sleep(60)"], ENV)
    ignores_term = supervisor.start("stubborn", [sys.executable, "-c", stubborn], ENV)
    deadline = time.monotonic() + 10
    while "ready" not in tail(ignores_term.log_path) and time.monotonic() < deadline:
        time.sleep(0.05)

    started = time.monotonic()
    supervisor.stop_all()

    assert polite.process.returncode == -15  # SIGTERM
    assert ignores_term.process.returncode == -9  # SIGKILL after the grace period
    assert time.monotonic() - started < 5
    assert supervisor.children == []
