"""``SWITCHBOARD_GATEWAY_WORKERS``: several gateway processes on one port, each its own bus client."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from support.processes import wait_until
from support.stack import Stack

WORKERS = 2


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _reply_subscriptions(stack: Stack) -> set[str]:
    """The gateways' reply subjects of this stack, from NATS monitoring: one per worker process."""
    connections = httpx.get(f"{stack.nats_monitor_url}/connz?subs=1&limit=1024", timeout=5).json()["connections"]
    prefix = f"{stack.prefix}.reply."
    return {s for c in connections or [] for s in c.get("subscriptions_list") or [] if s.startswith(prefix)}


def test_each_worker_serves_requests_and_all_stop_with_the_parent(private_stack: Stack) -> None:
    private_stack.extra_env["SWITCHBOARD_GATEWAY_WORKERS"] = str(WORKERS)
    private_stack.start(orchestrators=1)
    assert private_stack.gateway is not None and private_stack.gateway.process is not None
    parent = private_stack.gateway.process.pid
    wait_until(lambda: len(_reply_subscriptions(private_stack)) == WORKERS, timeout=30, what="both workers on NATS")
    assert len(_children(parent)) >= WORKERS

    def ask(index: int) -> int:
        # A connection per request, so that the kernel hands them to whichever worker accepts first.
        body = {"model": "claude-opus-5", "max_tokens": 16, "messages": [{"role": "user", "content": f"hi {index}"}]}
        headers = {"x-api-key": private_stack.api_key, "anthropic-version": "2023-06-01"}
        return httpx.post(f"{private_stack.base_url}/v1/messages", json=body, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(ask, range(40))) == {200}

    workers = _children(parent)
    assert private_stack.gateway.stop() == 0
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), timeout=15, what="workers gone")
