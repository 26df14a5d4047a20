"""From raw samples to the figures that matter: medians over repetitions, added costs, ratios, and the tables.

Added latency is computed per repetition (target minus its dialect's direct baseline, measured moments apart)
and then the median of those differences is taken, which cancels slow drift of the machine.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

__all__ = ["GOALS", "markdown", "summarize"]

MB = 1024 * 1024
SERVICES = ("api-gateway", "orchestrator-1", "tool-broker", "metering")
GOALS = {
    "throughput_ratio_min": 10.0,
    "added_p50_ms_max": 1.0,
    "added_ttft_ms_max": 1.0,
    "added_gap_ms_max": 0.2,
    "idle_services_mb_max": 150.0,
    "load_memory_fraction_of_litellm_max": 1 / 3,
}

Sample = dict[str, Any]


def _median(values: Iterable[float]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


_LATENCY_FIELDS: dict[str, tuple[str, ...]] = {
    "p50_ms": ("c1", "latency_ms", "p50"),
    "p99_ms": ("c1", "latency_ms", "p99"),
    "ttft_ms": ("stream_timing", "ttft_ms", "p50"),
    "ttft_p99_ms": ("stream_timing", "ttft_ms", "p99"),
    "gap_ms": ("stream_timing", "gap_ms", "mean"),
}


def _dig_keys(keys: tuple[str, ...], sample: Sample) -> float | None:
    return _dig(sample, *keys)


def _dig(sample: Sample, *keys: str) -> float | None:
    value: Any = sample
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, int | float) else None


def _baseline(name: str) -> str:
    return "direct-" + name.split("-", 1)[1]


def _per_rep(raw: dict[str, Any], name: str, pick: Callable[[Sample], float | None], *, added: bool) -> float | None:
    values = []
    for rep in raw["repetitions"]:
        value = pick(rep[name])
        base = pick(rep[_baseline(name)]) if added else 0.0
        values.append(None if value is None or base is None else value - base)
    return _median(v for v in values if v is not None)


def summarize(raw: dict[str, Any], concurrency: tuple[int, ...]) -> dict[str, Any]:
    """Medians per target, added costs against the direct baselines, and Switchboard/LiteLLM ratios."""
    medians: dict[str, dict[str, float | None]] = {}
    for name in raw["targets"]:
        row: dict[str, float | None] = {}
        direct = name.startswith("direct-")
        for label, keys in _LATENCY_FIELDS.items():
            row[label] = _per_rep(raw, name, partial(_dig_keys, keys), added=False)
            if not direct:
                row["added_" + label] = _per_rep(raw, name, partial(_dig_keys, keys), added=True)
        for c in concurrency:
            for phase in (f"c{c}", f"c{c}_stream"):
                row[f"{phase}_rps"] = _per_rep(raw, name, partial(_dig_keys, (phase, "requests_per_s")), added=False)
                cpu = partial(_dig_keys, (phase, "cpu_ms_per_request"))
                row[f"{phase}_cpu_ms"] = _per_rep(raw, name, cpu, added=False)
                row[f"{phase}_errors"] = _per_rep(raw, name, partial(_errors, phase=phase), added=False)
        medians[name] = row
    return {"medians": medians, "ratios": _ratios(medians), "memory": _memory(raw), "goals": GOALS}


def _errors(sample: Sample, *, phase: str) -> float | None:
    errors = sample.get(phase, {}).get("errors")
    return float(sum(errors.values())) if isinstance(errors, dict) else None


def _ratios(medians: dict[str, dict[str, float | None]]) -> dict[str, dict[str, float | None]]:
    ratios: dict[str, dict[str, float | None]] = {}
    for dialect in ("native", "translated"):
        ours, theirs = medians.get(f"switchboard-{dialect}"), medians.get(f"litellm-{dialect}")
        if ours is None or theirs is None:
            continue
        ratios[dialect] = {
            key: _ratio(ours[key], theirs.get(key))
            for key in ours
            if key.endswith(("_rps", "_cpu_ms")) or key.startswith("added_")
        }
    return ratios


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours and theirs else None


def _memory(raw: dict[str, Any]) -> dict[str, Any]:
    idle, peak = raw["idle_rss_bytes"], raw["peak_rss_bytes"]
    services_idle = sum(idle.get(name, 0) for name in SERVICES) / MB
    switchboard_peak = sum(peak[name] for name in raw["processes"].get("switchboard", [])) / MB
    litellm_peak = sum(peak[name] for name in raw["processes"].get("litellm", [])) / MB
    return {
        "idle_mb": {name: value / MB for name, value in idle.items()},
        "peak_mb": {name: value / MB for name, value in peak.items()},
        "services_idle_mb": services_idle,
        "switchboard_peak_mb": switchboard_peak,
        "litellm_peak_mb": litellm_peak or None,
    }


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(summary: dict[str, Any], raw: dict[str, Any], header: str, concurrency: tuple[int, ...]) -> str:
    medians = summary["medians"]
    lines = [header, "", "### Added latency at concurrency 1 (ms; medians of per-repetition differences)", ""]
    lines += ["| target | p50 | p99 | TTFT p50 | gap per chunk |", "|---|---:|---:|---:|---:|"]
    for name, row in medians.items():
        if name.startswith("direct-"):
            direct = (row["p50_ms"], row["p99_ms"], row["ttft_ms"])
            lines.append(f"| {name} (its own times) | " + " | ".join(_fmt(v) for v in direct)
                         + f" | {_fmt(row['gap_ms'], 3)} |")  # fmt: skip
            continue
        lines.append(f"| {name} | {_fmt(row['added_p50_ms'])} | {_fmt(row['added_p99_ms'])} | "
                     f"{_fmt(row['added_ttft_ms'])} | {_fmt(row['added_gap_ms'], 3)} |")  # fmt: skip
    phases = [phase for c in concurrency for phase in (f"c{c}", f"c{c}_stream")]
    lines += ["", "### Throughput (requests/s) and CPU per request (ms, the target's own processes)", ""]
    lines.append("| target | " + " | ".join(phases) + " | " + " | ".join(f"CPU {p}" for p in phases) + " |")
    lines.append("|---|" + "---:|" * (2 * len(phases)))
    for name, row in medians.items():
        rps = " | ".join(_fmt(row[f"{p}_rps"], 0) + _error_note(row[f"{p}_errors"]) for p in phases)
        cpu = " | ".join(_fmt(row[f"{p}_cpu_ms"]) for p in phases)
        lines.append(f"| {name} | {rps} | {cpu} |")
    if summary["ratios"]:
        columns = [f"{p} req/s" for p in phases] + [f"CPU/request {phases[0]}", "added p50", "added TTFT"]
        lines += ["", "### Switchboard / LiteLLM", "", "| path | " + " | ".join(columns) + " |"]
        lines.append("|---|" + "---:|" * len(columns))
        for dialect, ratio in summary["ratios"].items():
            cells = [_fmt(ratio.get(f"{p}_rps"), 1) + "x" for p in phases]
            cells += [_fmt(ratio.get(f"{phases[0]}_cpu_ms")), _fmt(ratio.get("added_p50_ms")),
                      _fmt(ratio.get("added_ttft_ms"))]  # fmt: skip
            lines.append(f"| {dialect} | " + " | ".join(cells) + " |")
    lines += _memory_lines(summary["memory"])
    lines += _sweep_lines(raw.get("concurrency_sweep"))
    lines += _scaling_lines(raw.get("scaling"))
    return "\n".join(lines) + "\n"


def _error_note(errors: float | None) -> str:
    return f" ({errors:.0f} errors)" if errors else ""


def _memory_lines(memory: dict[str, Any]) -> list[str]:
    lines = ["", "### Memory (MB RSS)", "", "| process | idle | peak under load |", "|---|---:|---:|"]
    for name, idle in memory["idle_mb"].items():
        lines.append(f"| {name} | {idle:.0f} | {memory['peak_mb'].get(name, 0):.0f} |")
    lines.append(f"| **four Switchboard services, idle** | {memory['services_idle_mb']:.0f} | |")
    lines.append(f"| **Switchboard incl. NATS, peak** | | {memory['switchboard_peak_mb']:.0f} |")
    return lines


def _sweep_lines(sweep: dict[str, dict[str, Any]] | None) -> list[str]:
    if not sweep:
        return []
    names = list(sweep)
    lines = ["", "### Streaming latency by concurrency (native path; p50 / p99 ms, req/s)", ""]
    lines += ["| streams | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for connections in next(iter(sweep.values())):
        cells = []
        for name in names:
            sample = sweep[name][connections]
            latency = sample["latency_ms"]
            cells.append(f"{latency['p50']:.1f} / {latency['p99']:.1f}, {sample['requests_per_s']:.0f}/s")
        lines.append(f"| {connections} | " + " | ".join(cells) + " |")
    return lines


def _scaling_lines(rows: list[dict[str, Any]] | None) -> list[str]:
    if not rows:
        return []
    keys = ("native", "native_stream", "translated", "translated_stream")
    lines = ["", "### Scaling (Switchboard req/s at the highest concurrency; medians)", ""]
    lines += ["| orchestrators | gateway workers | " + " | ".join(keys) + " |", "|---:|---:|" + "---:|" * len(keys)]
    shapes = sorted({(row["orchestrators"], row["gateway_workers"]) for row in rows}, key=lambda s: (s[1], s[0]))
    for orchestrators, workers in shapes:
        same = [row for row in rows if (row["orchestrators"], row["gateway_workers"]) == (orchestrators, workers)]
        cells = [_fmt(_median(row[key]["requests_per_s"] for row in same), 0) for key in keys]
        lines.append(f"| {orchestrators} | {workers} | " + " | ".join(cells) + " |")
    return lines
