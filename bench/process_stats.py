"""CPU time and memory of the processes under test, read from ``/proc`` (Linux only).

A named process counts with its whole tree (uvicorn workers, LiteLLM's workers), so a target's cost is what all
of its processes spent. A background thread samples resident memory to catch each tree's peak.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

__all__ = ["ProcessMonitor", "cpu_seconds", "rss_bytes", "tree"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
_PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    return text[text.rindex(")") + 2 :].split()


def tree(root: int) -> list[int]:
    """``root`` and all its living descendants."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (0 once it is gone)."""
    fields = _stat_fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    try:
        resident = int((_PROC / str(pid) / "statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return resident * _PAGE


class ProcessMonitor:
    """CPU and peak memory of named process trees, while ``start()``-ed."""

    def __init__(self, roots: Mapping[str, int], interval: float = 0.1) -> None:
        self._roots = dict(roots)
        self._interval = interval
        self._trees = {name: tree(pid) for name, pid in self._roots.items()}
        self._peaks: dict[str, int] = dict.fromkeys(self._roots, 0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def names(self) -> list[str]:
        return list(self._roots)

    def refresh(self) -> None:
        """Re-read the trees (after workers were started or restarted)."""
        self._trees = {name: tree(pid) for name, pid in self._roots.items()}

    def cpu(self) -> dict[str, float]:
        """CPU seconds each tree has used so far."""
        return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self._trees.items()}

    def rss(self) -> dict[str, int]:
        return {name: sum(rss_bytes(pid) for pid in pids) for name, pids in self._trees.items()}

    def peaks(self) -> dict[str, int]:
        return dict(self._peaks)

    def reset_peaks(self) -> None:
        self._peaks = self.rss()

    def start(self) -> None:
        self.reset_peaks()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            for name, value in self.rss().items():
                self._peaks[name] = max(self._peaks[name], value)
