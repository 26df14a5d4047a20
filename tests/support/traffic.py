"""Steady client traffic against a stack, remembering which requests the gateway answered (what must be billed)."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

__all__ = ["Traffic", "billing_counts"]


class Traffic(threading.Thread):
    """Sends one request every ``interval`` seconds (alternately streamed and not) until ``stop``."""

    def __init__(self, base_url: str, api_key: str, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self._client = httpx.Client(
            base_url=base_url, headers={"x-api-key": api_key, "anthropic-version": "2023-06-01"}, timeout=30
        )
        self._interval = interval
        self._stopping = threading.Event()
        self.answered: list[str] = []
        """Request ids the gateway answered with a complete 200: each must be billed exactly once."""
        self.refused = 0

    def run(self) -> None:
        sent = 0
        while not self._stopping.is_set():
            self._one(stream=sent % 2 == 1, words=1 + sent % 7)
            sent += 1
            self._stopping.wait(self._interval)

    def _one(self, *, stream: bool, words: int) -> None:
        body = {
            "model": "claude-opus-5", "max_tokens": 64, "stream": stream,
            "messages": [{"role": "user", "content": f"[[fake:words={words}]]"}],
        }  # fmt: skip
        try:
            with self._client.stream("POST", "/v1/messages", json=body) as response:
                payload = response.read()
        except httpx.HTTPError:
            self.refused += 1
            return
        complete = b"event: message_stop" in payload if stream else b'"stop_reason"' in payload
        if response.status_code == httpx.codes.OK and complete:
            self.answered.append(response.headers["request-id"])
        else:
            self.refused += 1

    def stop(self) -> list[str]:
        self._stopping.set()
        self.join(60)
        self._client.close()
        return list(self.answered)


def billing_counts(answered: list[str], billed: list[str]) -> tuple[list[str], list[str]]:
    """(answered but never billed, billed more than once), by transaction id = request id."""
    times = Counter(billed)
    return [rid for rid in answered if times[rid] == 0], [rid for rid, count in times.items() if count > 1]
