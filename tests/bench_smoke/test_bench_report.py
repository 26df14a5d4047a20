"""The bench's arithmetic: added latency per repetition, medians, ratios, memory sums, profile tallies."""

from __future__ import annotations

from typing import Any

from bench.profile import self_by_module, top_functions
from bench.report import markdown, summarize

MB = 1024 * 1024


def _sample(p50: float, rps: float, cpu: float) -> dict[str, Any]:
    load = {"requests_per_s": rps, "cpu_ms_per_request": cpu, "errors": {"status": 0}}
    return {
        "c1": {"latency_ms": {"p50": p50, "p99": 2 * p50}},
        "stream_timing": {"ttft_ms": {"p50": p50 + 1, "p99": p50 + 2}, "gap_ms": {"mean": 1.0 + p50 / 100}},
        "c32": load,
        "c32_stream": load,
    }


def _raw() -> dict[str, Any]:
    # Repetition 2 runs on a slower machine moment: every target is 1 ms slower, the differences stay.
    reps = [
        {"direct-native": _sample(0.1, 60_000, 0.01), "switchboard-native": _sample(2.1, 1200, 1.4),
         "litellm-native": _sample(12.1, 70, 14.0)},
        {"direct-native": _sample(1.1, 60_000, 0.01), "switchboard-native": _sample(3.1, 1000, 1.6),
         "litellm-native": _sample(13.1, 50, 16.0)},
        {"direct-native": _sample(0.1, 60_000, 0.01), "switchboard-native": _sample(2.5, 1100, 1.5),
         "litellm-native": _sample(12.0, 60, 15.0)},
    ]  # fmt: skip
    services = {"api-gateway": 100 * MB, "orchestrator-1": 70 * MB, "tool-broker": 60 * MB, "metering": 80 * MB}
    return {
        "targets": ["direct-native", "switchboard-native", "litellm-native"],
        "processes": {"switchboard": [*services, "nats-server"], "litellm": ["litellm"], "direct": ["fake-upstream"]},
        "idle_rss_bytes": {**services, "nats-server": 20 * MB, "litellm": 400 * MB, "fake-upstream": 25 * MB},
        "peak_rss_bytes": {**services, "nats-server": 100 * MB, "litellm": 450 * MB, "fake-upstream": 25 * MB},
        "repetitions": reps,
    }


def test_added_latency_is_the_median_of_per_repetition_differences() -> None:
    medians = summarize(_raw(), (32,))["medians"]
    assert medians["switchboard-native"]["added_p50_ms"] == 2.0  # 2.0, 2.0 and 2.4
    assert medians["litellm-native"]["added_p50_ms"] == 12.0  # 12.0, 12.0 and 11.9
    assert medians["switchboard-native"]["c32_rps"] == 1100
    assert "added_p50_ms" not in medians["direct-native"]


def test_ratios_and_memory() -> None:
    summary = summarize(_raw(), (32,))
    ratio = summary["ratios"]["native"]
    assert ratio["c32_rps"] == 1100 / 60
    assert ratio["c32_cpu_ms"] == 1.5 / 15.0
    memory = summary["memory"]
    assert memory["services_idle_mb"] == 310
    assert memory["switchboard_peak_mb"] == 410
    assert memory["litellm_peak_mb"] == 450
    table = markdown(summary, _raw(), "## header", (32,))
    assert "| switchboard-native | 2.00 | 4.00 |" in table
    assert "| native | 18.3x | 18.3x |" in table


def test_profile_tallies_count_each_frame_once_per_stack() -> None:
    folded = "\n".join(
        [
            "main (a/app.py:1);handle (a/app.py:9);send (nats/aio/client.py:5) 6",
            "main (a/app.py:1);handle (a/app.py:9);handle (a/app.py:9) 2",
            "main (a/app.py:1);parse (pydantic/main.py:3) 2",
            "not a sample line",
        ]
    )
    total, top = top_functions(folded)
    assert total == 10
    assert top[0] == ("main (a/app.py:1)", 10, 0)
    assert ("handle (a/app.py:9)", 8, 2) in top  # a recursive frame counts once per stack
    assert self_by_module(folded) == (10, [("nats/aio/client.py", 6), ("a/app.py", 2), ("pydantic/main.py", 2)])
