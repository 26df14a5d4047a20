"""``python -m bench.compare REV``: this working tree against revision REV, both running at once, alternating.

On a shared machine the same code measures differently from one hour to the next, so a change is judged by
running both versions side by side: two Switchboard stacks (REV's sources from ``git archive``, put first on
``PYTHONPATH``; the same virtualenv for both) behind one fake upstream, wrk taking turns between them with the
order alternating. Prints the median p50 (and requests/s) of each, and writes them as JSON with every sample.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.switchboard_stack import SwitchboardStack
from bench.systems import FakeUpstream, switchboard_targets
from bench.targets import Dialect
from bench.wrk import Wrk, find_wrk, run_wrk

__all__ = ["compare"]

_REPO = Path(__file__).resolve().parents[1]
_SOURCE_ROOTS = ("libs/common", "services/api-gateway", "services/orchestrator", "services/tool-broker",
                 "services/metering", "cli")  # fmt: skip


def export_sources(revision: str, into: Path) -> str:
    """REV's ``src`` trees unpacked under ``into``; the ``PYTHONPATH`` that makes Python import them first."""
    paths = [f"{root}/src" for root in _SOURCE_ROOTS]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, *paths], cwd=_REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return ":".join(str(into / path) for path in paths)


def compare(revision: str, *, reps: int, duration: float, connections: int, stream: bool, dialect: Dialect,
            workdir: Path) -> dict[str, Any]:  # fmt: skip
    wrk = find_wrk(_REPO / ".cache" / "wrk")
    with ExitStack() as stack:
        upstream = FakeUpstream(deltas=16)
        upstream.start()
        stack.callback(upstream.stop)
        base_path = export_sources(revision, workdir / "base-src")
        stacks = {
            revision: _started(stack, workdir / "base", upstream.url, {"PYTHONPATH": base_path}),
            "working tree": _started(stack, workdir / "work", upstream.url, {}),
        }
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in stacks}
        for rep in range(reps):
            order = list(stacks.items()) if rep % 2 == 0 else list(reversed(stacks.items()))
            for name, switchboard in order:
                samples[name].append(_measure(wrk, switchboard, dialect, stream, connections, duration, warm=rep == 0))
    return {
        "revision": revision,
        "connections": connections,
        "stream": stream,
        "dialect": dialect,
        "samples": samples,
        "medians": {name: _medians(rows) for name, rows in samples.items()},
    }


def _started(stack: ExitStack, workdir: Path, upstream_url: str, env: dict[str, str]) -> SwitchboardStack:
    switchboard = SwitchboardStack(workdir, upstream_url, extra_env=env)
    stack.callback(switchboard.stop)
    switchboard.start()
    return switchboard


def _measure(wrk: Wrk, switchboard: SwitchboardStack, dialect: Dialect, stream: bool, connections: int,
             duration: float, *, warm: bool) -> dict[str, float]:  # fmt: skip
    (target,) = [t for t in switchboard_targets(switchboard) if t.dialect == dialect]
    body, headers = target.body(stream=stream), target.request_headers()
    if warm:
        run_wrk(wrk, target.url, body=body, headers=headers, connections=connections, duration=1.0)
    result = run_wrk(wrk, target.url, body=body, headers=headers, connections=connections, duration=duration)
    if result.failed:
        raise RuntimeError(f"{result.failed} failed requests against {target.url}: {result.errors}")
    return {"p50_ms": result.latency_ms["p50"], "p99_ms": result.latency_ms["p99"], "rps": result.requests_per_s}


def _medians(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(row[key] for row in rows), 3) for key in rows[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("revision", metavar="REV", help="git revision to compare the working tree with, e.g. HEAD~1")
    parser.add_argument("--reps", type=int, default=6, help="measurements per side, alternating (default 6)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement (default 3)")
    parser.add_argument("--concurrency", type=int, default=1, help="wrk connections (default 1: latency)")
    parser.add_argument("--stream", action="store_true", help="streaming requests")
    parser.add_argument("--translated", action="store_true", help="the translated path (default: native)")
    parser.add_argument("--out", type=Path, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="switchboard-compare-") as workdir:
        result = compare(args.revision, reps=args.reps, duration=args.duration, connections=args.concurrency,
                         stream=args.stream, dialect="translated" if args.translated else "native",
                         workdir=Path(workdir))  # fmt: skip
    for name, medians in result["medians"].items():
        print(f"{name:>14}: p50 {medians['p50_ms']:.3f} ms, p99 {medians['p99_ms']:.3f} ms, {medians['rps']:.0f} req/s")
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
