"""``bench/run [--quick] …``: measure Switchboard against direct calls and LiteLLM's proxy, write JSON + markdown."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import LoadSettings
from bench.profile import profile
from bench.report import markdown, summarize
from bench.runner import BenchOptions, run_bench
from bench.targets import System

_REPO = Path(__file__).resolve().parents[1]

_SYSTEMS: tuple[System, ...] = ("direct", "switchboard", "litellm")
_PROFILES = ("native", "native-stream", "translated", "translated-stream")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds per system: checks the bench runs")
    parser.add_argument("--reps", type=int, default=3, help="repetitions, targets alternating (default 3)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per measurement (default 5)")
    parser.add_argument("--concurrency", default="32,64", help="comma-separated wrk connections (default 32,64)")
    parser.add_argument("--deltas", type=int, default=16, help="text deltas per streamed response (default 16)")
    parser.add_argument("--systems", default=",".join(_SYSTEMS), help="any of direct,switchboard,litellm")
    parser.add_argument("--no-scaling", action="store_true", help="skip the concurrency sweep and replica scaling")
    parser.add_argument("--profile", choices=_PROFILES, help="instead: py-spy profiles of Switchboard on one path")
    parser.add_argument("--out", type=Path, default=_REPO / "bench" / "results", help="where results are written")
    return parser.parse_args(argv)


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    systems = tuple(name for name in _SYSTEMS if name in args.systems.split(","))
    concurrency = tuple(int(c) for c in args.concurrency.split(","))
    settings = LoadSettings(duration=args.duration, warmup=1.0, probe_requests=100)
    reps, scaling = args.reps, not args.no_scaling
    if args.quick:
        settings, reps, scaling, concurrency = LoadSettings(1.0, 0.0, 10), 1, False, (8,)
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="switchboard-profile-") as workdir:
            print(profile(Path(workdir), _REPO / ".cache", args.out / "profiles", args.profile,
                          duration=args.duration, connections=concurrency[0]))  # fmt: skip
        return 0
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as workdir:
        options = BenchOptions(Path(workdir), _REPO / ".cache", systems, reps, settings, concurrency, args.deltas,
                               scaling, _log)  # fmt: skip
        started = time.monotonic()
        raw = run_bench(options)
    cores = os.cpu_count()
    raw["machine"] = {"cores": cores, "platform": platform.platform(), "python": platform.python_version()}
    raw["settings"] = {"reps": reps, "duration_s": settings.duration, "concurrency": concurrency,
                       "deltas": args.deltas, "probe_requests": settings.probe_requests}  # fmt: skip
    summary = summarize(raw, concurrency)
    header = (f"## Switchboard bench: {cores} cores, {reps} repetition(s) of {settings.duration:g} s per "
              f"measurement, {args.deltas} deltas per stream, {time.monotonic() - started:.0f} s in all")  # fmt: skip
    table = markdown(summary, raw, header, concurrency)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "quick" if args.quick else "latest"
    (args.out / f"{stem}.json").write_text(json.dumps({"summary": summary, "raw": raw}, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(table)
    print(table)
    _log(f"wrote {args.out / stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
