"""Where Switchboard's CPU goes under load: py-spy samples every service while wrk drives one path.

``bench/run --profile native`` (or ``translated``, ``native-stream``, ``translated-stream``) writes, per process,
py-spy's collapsed stacks (``<name>.folded``, loadable in speedscope or flamegraph.pl) and a table of the
functions with the most samples, inclusive and self, to ``bench/results/profiles/``.
"""

from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.measure import LoadSettings, load
from bench.process_stats import ProcessMonitor
from bench.systems import Systems
from bench.wrk import find_wrk

__all__ = ["profile", "self_by_module", "top_functions"]

_RATE = 250
"""py-spy samples per second: enough detail at a cost the services barely notice."""
_TOP = 25


def _py_spy() -> str:
    found = Path(sys.executable).parent / "py-spy"
    if found.exists():
        return str(found)
    which = shutil.which("py-spy")
    if which is None:
        raise RuntimeError("py-spy is not installed (it is a dev dependency: ./check or ./switchboard installs it)")
    return which


def _samples(folded: str) -> Iterator[tuple[list[str], int]]:
    """``(frames, count)`` per line of py-spy's collapsed stacks (outermost frame first)."""
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if stack and count_text.isdigit():
            yield stack.split(";"), int(count_text)


def top_functions(folded: str, limit: int = _TOP) -> tuple[int, list[tuple[str, int, int]]]:
    """Total samples and the ``limit`` functions with most inclusive samples: ``(function, inclusive, self)``."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in _samples(folded):
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    return total, [(frame, samples, own[frame]) for frame, samples in inclusive.most_common(limit)]


def self_by_module(folded: str, limit: int = _TOP) -> tuple[int, list[tuple[str, int]]]:
    """Total samples and where they were spent, by the source file of the innermost frame (its own code)."""
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in _samples(folded):
        total += count
        leaf = frames[-1]
        start, end = leaf.rfind(" ("), leaf.rfind(":")
        own[leaf[start + 2 : end] if 0 <= start < end else leaf] += count
    return total, own.most_common(limit)


def profile(workdir: Path, cache_dir: Path, out: Path, path: str, *, duration: float, connections: int) -> str:
    """Profile the Switchboard path ``path`` and return the markdown summary (also written to ``out``)."""
    dialect, _, stream = path.partition("-")
    wrk = find_wrk(cache_dir / "wrk")
    systems = Systems(workdir, 16, with_switchboard=True, with_litellm=False)
    out.mkdir(parents=True, exist_ok=True)
    try:
        systems.start()
        target = next(t for t in systems.targets() if t.system == "switchboard" and t.dialect == dialect)
        settings = LoadSettings(duration=duration, warmup=2.0, probe_requests=0)
        processes = {name: pid for name, pid in systems.processes().items() if name != "fake-upstream"}
        recorders = {name: _record(pid, out / f"{name}.folded") for name, pid in processes.items()}
        time.sleep(1.0)  # py-spy attaches
        sample = load(wrk, target, ProcessMonitor(processes), stream=bool(stream), connections=connections,
                      settings=settings, own_processes=list(processes))  # fmt: skip
        for recorder in recorders.values():
            recorder.send_signal(signal.SIGINT)
        for recorder in recorders.values():
            recorder.wait(timeout=30)
    finally:
        systems.close()
    summary = _summary(out, list(processes), path, sample, connections)
    (out / f"{path}.md").write_text(summary)
    return summary


def _record(pid: int, output: Path) -> subprocess.Popen[bytes]:
    command = [_py_spy(), "record", "--pid", str(pid), "--rate", str(_RATE), "--format", "raw", "--nonblocking"]
    command += ["--subprocesses", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _summary(out: Path, names: list[str], path: str, sample: dict[str, object], connections: int) -> str:
    lines = [f"## Profile: switchboard-{path}, wrk -c{connections}: {sample['requests_per_s']:.0f} req/s, "
             f"{sample['cpu_ms_per_request']:.2f} ms CPU per request", ""]  # fmt: skip
    spent = sample["cpu_seconds"]
    requests = sample["requests"]
    if isinstance(spent, dict) and isinstance(requests, int) and requests:
        lines += ["| process | CPU ms per request |", "|---|---:|"]
        lines += [f"| {name} | {1000 * seconds / requests:.2f} |" for name, seconds in spent.items()]
        lines.append("")
    for name in names:
        folded = out / f"{name}.folded"
        if not folded.exists():
            continue
        text = folded.read_text()
        total, top = top_functions(text)
        if not total:
            continue
        lines += [f"### {name} ({total} samples)", "", "Own time by source file:", "", "| file | self |", "|---|---:|"]
        lines += [f"| `{module}` | {100 * count / total:.1f}% |" for module, count in self_by_module(text, 15)[1]]
        lines += ["", "Functions with the most samples:", "", "| function | inclusive | self |", "|---|---:|---:|"]
        lines += [f"| `{frame}` | {100 * both / total:.1f}% | {100 * own / total:.1f}% |" for frame, both, own in top]
        lines.append("")
    return "\n".join(lines)
