"""Steady streaming traffic through several gateways, each request judged by what its client saw, for the
scale-out test that SIGKILLs one replica of every service while the traffic runs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from fakes.lago import FakeLago
from support.processes import ServiceProcess
from switchboard.common.events import CompletionRecorded
from switchboard.common.subjects import Subjects

__all__ = [
    "AGENT",
    "Attempt",
    "Client",
    "Kill",
    "Outcome",
    "judge",
    "kill",
    "orchestrator_inflight",
    "recorded_request_ids",
    "resent_transaction_ids",
]

AGENT = "scale-out"
"""The agent header of the requests that make a tool call; its short tool timeout bounds a call lost with a broker."""
_TOOL = "mcp__notes__slow_echo"


class Outcome(StrEnum):
    COMPLETED = "completed"
    """HTTP 200 and ``message_stop``; an agent request also echoed its marker through the tool."""
    TOOL_FAILED = "tool failed"
    """Completed, but the tool result the model read was an error (the call was lost with its broker)."""
    ANTHROPIC_ERROR = "anthropic error"
    """An SSE ``error`` event, or an HTTP error, with Anthropic's error body."""
    REFUSED = "refused"
    """The connection was refused: nothing was sent (the client retried on the other gateway)."""
    CONNECTION_LOST = "connection lost"
    """The connection broke after the request was sent."""
    HUNG = "hung"
    """Nothing arrived for the client's read timeout."""
    MALFORMED = "malformed"
    """Anything else: a truncated stream, a body that is not Anthropic's, a wrong answer."""


@dataclass
class Attempt:
    """One HTTP request as its client saw it."""

    marker: str
    agent: bool
    gateway: int
    started: float
    ended: float = 0.0
    outcome: Outcome = Outcome.MALFORMED
    detail: str = ""
    request_id: str | None = None
    retry_of: Attempt | None = None

    def in_flight_during(self, kill: Kill) -> bool:
        return self.started <= kill.dead and self.ended >= kill.at


@dataclass(frozen=True)
class Kill:
    """One SIGKILL: which kind of service, which replica, from the signal until the process was reaped."""

    kind: str
    replica: str
    at: float
    dead: float


def _error_body(data: Any) -> bool:
    """Anthropic's ``{"type":"error","error":{"type":…,"message":…},"request_id":…}``."""
    if not isinstance(data, dict) or data.get("type") != "error" or not isinstance(data.get("request_id"), str):
        return False
    error = data.get("error")
    return isinstance(error, dict) and isinstance(error.get("type"), str) and isinstance(error.get("message"), str)


def _events(raw: bytes) -> list[tuple[str, Any]] | None:
    """The ``(event, data)`` pairs of an SSE body, or ``None`` when it is not well-formed Anthropic SSE."""
    blocks = [block for block in raw.decode(errors="replace").split("\n\n") if block.strip()]
    events: list[tuple[str, Any]] = []
    for block in blocks:
        lines = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        try:
            data = json.loads(lines["data"])
        except (KeyError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("type") != lines.get("event"):
            return None
        events.append((lines["event"], data))
    return events


def _text(events: list[tuple[str, Any]]) -> str:
    deltas = (data["delta"] for name, data in events if name == "content_block_delta")
    return "".join(delta.get("text", "") for delta in deltas if delta.get("type") == "text_delta")


def judge(status: int, raw: bytes, *, marker: str, agent: bool) -> tuple[Outcome, str]:
    """What a complete response body amounts to, and why."""
    if status != httpx.codes.OK:
        try:
            well_formed = _error_body(json.loads(raw))
        except ValueError:
            well_formed = False
        return (Outcome.ANTHROPIC_ERROR if well_formed else Outcome.MALFORMED), f"HTTP {status}: {raw[:300]!r}"
    events = _events(raw)
    if not events or events[0][0] != "message_start":
        return Outcome.MALFORMED, f"not an Anthropic stream: {raw[-300:]!r}"
    last, data = events[-1]
    if last == "error":
        return (Outcome.ANTHROPIC_ERROR if _error_body(data) else Outcome.MALFORMED), json.dumps(data)
    if last != "message_stop":
        return Outcome.MALFORMED, f"stream ended with {last!r}: {raw[-300:]!r}"
    text = _text(events)
    if not agent or text.endswith(f"Results: {marker}"):
        return Outcome.COMPLETED, ""
    return (Outcome.TOOL_FAILED if "Results: ERROR: " in text else Outcome.MALFORMED), text[-300:]


def _body(marker: str, agent: bool) -> dict[str, Any]:
    if agent:
        tool_input = json.dumps({"text": marker, "seconds": 0.4})
        prompt = f"[[fake:agent_calls={_TOOL}]] [[fake:tool_input={tool_input}]]"
    else:  # long enough that every kill finds streams in flight
        prompt = f"[[fake:words=30]] [[fake:word_delay=0.05]] {marker}"
    messages = [{"role": "user", "content": prompt}]
    return {"model": "claude-opus-5", "max_tokens": 256, "stream": True, "messages": messages}


class Client(threading.Thread):
    """Streams requests one after the other, alternating gateways like a round-robin load balancer, and
    alternating plain requests with agent requests; a refused connection is retried once on the other gateway.
    """

    def __init__(self, name: str, gateways: Sequence[str], api_key: str, read_timeout: float = 20.0) -> None:
        super().__init__(daemon=True, name=name)
        self._gateways = list(gateways)
        self._http = httpx.Client(
            headers={"x-api-key": api_key, "anthropic-version": "2023-06-01"},
            timeout=httpx.Timeout(10.0, read=read_timeout),
        )
        self._stopping = threading.Event()
        self.attempts: list[Attempt] = []
        self.current: Attempt | None = None
        """The attempt in flight, for a test that waits for one before killing its gateway."""

    def run(self) -> None:
        for sent in itertools.count():
            if self._stopping.is_set():
                return
            marker = f"{self.name}-{sent}"
            # Plain, agent, plain, agent… on one gateway, then the same pair on the next: both kinds through both.
            attempt = self._send(marker, agent=sent % 2 == 1, gateway=sent // 2 % len(self._gateways))
            if attempt.outcome is Outcome.REFUSED:
                other = (attempt.gateway + 1) % len(self._gateways)
                self._send(marker, agent=attempt.agent, gateway=other, retry_of=attempt)

    def stop(self) -> list[Attempt]:
        """Let the request in flight finish, then stop; returns every attempt made."""
        self._stopping.set()
        self.join(60)
        assert not self.is_alive(), f"{self.name} is stuck in a request"
        self._http.close()
        return list(self.attempts)

    def _send(self, marker: str, *, agent: bool, gateway: int, retry_of: Attempt | None = None) -> Attempt:
        attempt = Attempt(marker, agent, gateway, time.monotonic(), retry_of=retry_of)
        self.current = attempt
        headers = {"x-switchboard-agent": AGENT} if agent else {}
        url = f"{self._gateways[gateway]}/v1/messages"
        try:
            with self._http.stream("POST", url, json=_body(marker, agent), headers=headers) as response:
                attempt.request_id = response.headers.get("request-id")
                raw = response.read()
            attempt.outcome, attempt.detail = judge(response.status_code, raw, marker=marker, agent=agent)
        except httpx.ConnectError as exc:
            attempt.outcome, attempt.detail = Outcome.REFUSED, repr(exc)
        except httpx.TimeoutException as exc:
            attempt.outcome, attempt.detail = Outcome.HUNG, repr(exc)
        except httpx.TransportError as exc:
            attempt.outcome, attempt.detail = Outcome.CONNECTION_LOST, repr(exc)
        attempt.ended = time.monotonic()
        self.attempts.append(attempt)
        self.current = None
        return attempt


def kill(kind: str, replica: str, process: ServiceProcess) -> Kill:
    """SIGKILL ``process``; the window lasts until it is reaped, for a socket dies with the process, not the signal."""
    at = time.monotonic()
    process.kill()
    return Kill(kind, replica, at, time.monotonic())


def orchestrator_inflight(ops_port: int) -> int:
    """Requests one orchestrator is serving, from its ``/metrics``."""
    text = httpx.get(f"http://127.0.0.1:{ops_port}/metrics", timeout=5).text
    (line,) = [line for line in text.splitlines() if line.startswith("switchboard_orchestrator_inflight_requests ")]
    return int(float(line.split()[1]))


async def _recorded(nats_url: str, prefix: str) -> list[str]:
    subjects = Subjects(prefix)
    nc = await nats.connect(nats_url)
    try:
        config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        consumer = await nc.jetstream().pull_subscribe(
            subjects.completion_recorded_all, stream=subjects.usage_stream, config=config
        )
        found: list[str] = []
        while True:
            try:
                batch = await consumer.fetch(256, timeout=1.0)
            except TimeoutError:  # nats-py raises its own or asyncio's, depending on the path
                await consumer.unsubscribe()
                return found
            found += [CompletionRecorded.model_validate_json(msg.data).request_id for msg in batch]
    finally:
        await nc.close()


def recorded_request_ids(nats_url: str, prefix: str) -> list[str]:
    """The request id of every ``CompletionRecorded`` in the usage stream, once per event."""
    return asyncio.run(_recorded(nats_url, prefix))


def resent_transaction_ids(lago: FakeLago) -> list[str]:
    """Transaction ids metering sent Lago more than once (Lago stored the first and refused the others)."""
    batches = [request.json for request in lago.requests if request.path == "/api/v1/events/batch"]
    sent = Counter(event["transaction_id"] for batch in batches if batch for event in batch.get("events", []))
    return [transaction for transaction, times in sent.items() if times > 1]
