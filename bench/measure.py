"""One measurement of one target: a wrk run with the CPU its processes spent, or a chunk-timing probe."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bench.process_stats import ProcessMonitor
from bench.stream_probe import probe_stream
from bench.targets import Target
from bench.wrk import Wrk, run_wrk

__all__ = ["LoadSettings", "load", "stream_timing"]


@dataclass(frozen=True)
class LoadSettings:
    duration: float
    warmup: float
    probe_requests: int


def load(
    wrk: Wrk,
    target: Target,
    monitor: ProcessMonitor,
    *,
    stream: bool,
    connections: int,
    settings: LoadSettings,
    own_processes: list[str],
) -> dict[str, object]:
    """wrk at ``connections`` after a short warm-up, and the CPU each process spent meanwhile.

    ``cpu_ms_per_request`` counts only the target's ``own_processes``: the fake's share is the same for all.
    """
    body = target.body(stream=stream)
    headers = target.request_headers()
    if settings.warmup > 0:
        run_wrk(wrk, target.url, body=body, headers=headers, connections=connections, duration=settings.warmup)
    before = monitor.cpu()
    result = run_wrk(wrk, target.url, body=body, headers=headers, connections=connections, duration=settings.duration)
    after = monitor.cpu()
    spent = {name: after[name] - before[name] for name in after}
    completed = max(result.requests - result.failed, 1)
    return {
        **result.as_dict(),
        "cpu_seconds": spent,
        "cpu_ms_per_request": 1000 * sum(spent[name] for name in own_processes) / completed,
    }


def stream_timing(target: Target, settings: LoadSettings) -> dict[str, object]:
    """Time to first token and gaps between streamed chunks at concurrency 1 (the fake paces each delta)."""
    host, port = target.host_port
    probe = asyncio.run(
        probe_stream(
            host,
            port,
            target.path,
            body=target.body(stream=True, paced=True),
            headers={k: v for k, v in target.request_headers().items() if k != "content-type"},
            token_marker=target.token_marker,
            requests=settings.probe_requests,
        )
    )
    return probe.as_dict()
