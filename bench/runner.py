"""The measurement plan: every phase for every target, targets alternating within each repetition.

Phases per repetition: latency at concurrency 1 (wrk), stream timing (probe), then throughput for each of
non-streaming and streaming at each concurrency. The target order rotates between repetitions, so slow drift on the
machine does not always land on the same system. Raw samples only; ``report`` derives medians and ratios.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.measure import LoadSettings, load, stream_timing
from bench.process_stats import ProcessMonitor
from bench.systems import Systems, switchboard_targets
from bench.targets import System, Target
from bench.wrk import Wrk, find_wrk

__all__ = ["BenchOptions", "run_bench"]

_IDLE_SETTLE_SECONDS = 2.0
_SCALING = ((1, 1), (2, 1), (1, 2), (2, 2))
"""(orchestrator replicas, gateway worker processes) of the scaling table."""
_SWEEP = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class BenchOptions:
    workdir: Path
    cache_dir: Path
    systems: tuple[System, ...]
    reps: int
    load: LoadSettings
    concurrency: tuple[int, ...]
    deltas: int
    scaling: bool
    log: Callable[[str], None]


def run_bench(options: BenchOptions) -> dict[str, Any]:
    wrk = find_wrk(options.cache_dir / "wrk")
    systems = Systems(options.workdir, options.deltas, "switchboard" in options.systems, "litellm" in options.systems)
    options.log("starting the fake upstream" + "".join(f", {name}" for name in options.systems if name != "direct"))
    try:
        systems.start()
        return _measure(options, wrk, systems)
    finally:
        systems.close()


def _measure(options: BenchOptions, wrk: Wrk, systems: Systems) -> dict[str, Any]:
    targets = systems.targets()
    monitor = ProcessMonitor(systems.processes())
    owners = _owners(systems)
    _warm_up(options, wrk, targets)
    time.sleep(_IDLE_SETTLE_SECONDS)
    idle_rss = monitor.rss()
    monitor.start()
    reps: list[dict[str, Any]] = []
    try:
        for rep in range(options.reps):
            order = targets[rep % len(targets) :] + targets[: rep % len(targets)]
            options.log(f"repetition {rep + 1}/{options.reps}: {', '.join(t.name for t in order)}")
            reps.append(_repetition(options, wrk, order, monitor, owners))
    finally:
        monitor.stop()
    result: dict[str, Any] = {
        "targets": [t.name for t in targets],
        "processes": owners,
        "idle_rss_bytes": idle_rss,
        "peak_rss_bytes": monitor.peaks(),
        "repetitions": reps,
    }
    if options.scaling and systems.switchboard is not None:
        result["concurrency_sweep"] = _sweep(options, wrk, targets, monitor, owners)
        result["scaling"] = _scaling(options, wrk, systems)
    return result


def _owners(systems: Systems) -> dict[str, list[str]]:
    """The processes each system's CPU is counted over."""
    processes = list(systems.processes())
    return {
        "direct": ["fake-upstream"],
        "switchboard": [name for name in processes if name not in ("fake-upstream", "litellm")],
        "litellm": ["litellm"] if "litellm" in processes else [],
    }


def _warm_up(options: BenchOptions, wrk: Wrk, targets: list[Target]) -> None:
    """One request per path must succeed; then (unless ``--quick``) a second of traffic through every path, so
    imports, pools and caches are in place before measuring."""
    for target in targets:
        for stream in (False, True):
            answer = httpx.post(target.url, content=target.body(stream=stream), headers=target.request_headers(),
                                timeout=30)  # fmt: skip
            if answer.status_code != httpx.codes.OK:
                kind = "streaming" if stream else "non-streaming"
                raise RuntimeError(f"{target.name} answered a {kind} request with {answer.status_code}: {answer.text}")
    if options.load.warmup <= 0:
        return
    settings = LoadSettings(duration=options.load.warmup, warmup=0.0, probe_requests=0)
    for target in targets:
        for stream in (False, True):
            load(wrk, target, ProcessMonitor({}), stream=stream, connections=4, settings=settings, own_processes=[])


def _repetition(
    options: BenchOptions, wrk: Wrk, order: list[Target], monitor: ProcessMonitor, owners: dict[str, list[str]]
) -> dict[str, Any]:
    samples: dict[str, dict[str, Any]] = {target.name: {} for target in order}

    def measure(key: str, stream: bool, connections: int) -> None:
        for target in order:
            samples[target.name][key] = load(wrk, target, monitor, stream=stream, connections=connections,
                                             settings=options.load, own_processes=owners[target.system])  # fmt: skip

    measure("c1", False, 1)
    for target in order:
        samples[target.name]["stream_timing"] = stream_timing(target, options.load)
    for connections in options.concurrency:
        measure(f"c{connections}", False, connections)
        measure(f"c{connections}_stream", True, connections)
    return samples


def _sweep(
    options: BenchOptions, wrk: Wrk, targets: list[Target], monitor: ProcessMonitor, owners: dict[str, list[str]]
) -> dict[str, dict[str, Any]]:
    """Streaming latency and throughput from 1 to 64 concurrent streams, native path."""
    options.log("concurrency sweep (streaming, native path)")
    sweep: dict[str, dict[str, Any]] = {}
    for target in (t for t in targets if t.dialect == "native"):
        own = owners[target.system]
        sweep[target.name] = {}
        for connections in _SWEEP:
            sample = load(wrk, target, monitor, stream=True, connections=connections, settings=options.load,
                          own_processes=own)  # fmt: skip
            sweep[target.name][str(connections)] = sample
    return sweep


def _scaling(options: BenchOptions, wrk: Wrk, systems: Systems) -> list[dict[str, Any]]:
    """Throughput at the highest concurrency with more orchestrator replicas and gateway workers."""
    assert systems.switchboard is not None
    systems.switchboard.stop()
    systems.switchboard = None
    connections = max(options.concurrency)
    rows: list[dict[str, Any]] = []
    for rep in range(options.reps):
        for orchestrators, workers in _SCALING:
            shape = f"{orchestrators} orchestrator(s), {workers} gateway worker(s)"
            options.log(f"scaling {rep + 1}/{options.reps}: {shape}")
            stack = systems.start_switchboard(orchestrators=orchestrators, gateway_workers=workers)
            try:
                monitor = ProcessMonitor(stack.processes())
                names = list(stack.processes())
                row: dict[str, Any] = {"rep": rep, "orchestrators": orchestrators, "gateway_workers": workers}
                for target in switchboard_targets(stack):
                    _warm_up(options, wrk, [target])
                    for stream in (False, True):
                        key = f"{target.dialect}{'_stream' if stream else ''}"
                        row[key] = load(wrk, target, monitor, stream=stream, connections=connections,
                                        settings=options.load, own_processes=names)  # fmt: skip
                rows.append(row)
            finally:
                stack.stop()
    return rows
