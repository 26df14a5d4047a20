"""Wait for the gateway's ``GET /v1/health`` to say ``healthy``, and explain what is failing if it doesn't."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

__all__ = ["HealthTimeoutError", "failing_components", "wait_healthy"]

_GOOD = {"healthy", "ok", "up", True}


class HealthTimeoutError(Exception):
    """The gateway did not report ``healthy`` in time; the message says what was wrong last."""


def failing_components(body: Any) -> list[str]:
    """``name: status`` of each component the health body reports as not healthy.

    Accepts ``{"components": {name: status | {"status": status, "detail"|"error": …}}}`` (or ``checks``).
    """
    if not isinstance(body, dict):
        return []
    components = body.get("components", body.get("checks"))
    if not isinstance(components, dict):
        return []
    failing = []
    for name, value in components.items():
        status = value.get("status") if isinstance(value, dict) else value
        if status in _GOOD:
            continue
        detail = (value.get("detail") or value.get("error")) if isinstance(value, dict) else None
        failing.append(f"{name}: {status}" + (f" ({detail})" if detail else ""))
    return failing


def _probe(url: str) -> tuple[bool, str]:
    """``(healthy, what is wrong)`` from one request."""
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError as exc:
        return False, f"gateway not answering at {url} ({type(exc).__name__})"
    try:
        body = response.json()
    except ValueError:
        return False, f"gateway answered HTTP {response.status_code} without JSON"
    status = body.get("status") if isinstance(body, dict) else None
    if status == "healthy":
        return True, ""
    failing = failing_components(body)
    return False, f"gateway reports {status!r}" + (": " + "; ".join(failing) if failing else f": {body}")


def wait_healthy(url: str, *, timeout: float, still_running: Callable[[], None], interval: float = 0.25) -> None:
    """Poll ``url`` until healthy. ``still_running`` raises if a process the gateway needs has died."""
    deadline = time.monotonic() + timeout
    problem = "no answer yet"
    while time.monotonic() < deadline:
        still_running()
        healthy, problem = _probe(url)
        if healthy:
            return
        time.sleep(interval)
    raise HealthTimeoutError(f"not healthy after {timeout:.0f} s: {problem}")
