"""SIGTERM drains: the gateway finishes its streams (within the grace period), orchestrators their calls, and each
process exits 0; what outlives the grace ends with a retryable Anthropic error."""

from __future__ import annotations

import secrets
import signal
import subprocess
import time

import httpx
import pytest

from e2e.sse import SseEvent, read_events
from support.processes import ServiceProcess, wait_until
from support.stack import Stack

pytestmark = pytest.mark.timeout(90)

SLOW_STREAM = "[[fake:words=40]] [[fake:word_delay=0.05]]"
"""About two seconds of deltas: long enough to signal a process in the middle of it."""


def headers(stack: Stack) -> dict[str, str]:
    return {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}


def body(text: str, *, stream: bool = True) -> dict[str, object]:
    return {
        "model": "claude-opus-5",
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }


def terminate(service: ServiceProcess | None) -> subprocess.Popen[bytes]:
    assert service is not None and service.process is not None
    service.process.send_signal(signal.SIGTERM)
    return service.process


def refuses_connections(url: str) -> bool:
    """Whether a new connection goes unserved: refused, or (caught as the socket closed) dropped unanswered."""
    try:
        httpx.get(f"{url}/v1/health", timeout=1.0)
    except (httpx.ConnectError, httpx.RemoteProtocolError):
        return True
    return False


def stream_rest_after_signal(stack: Stack, prompt: str, signal_target: ServiceProcess | None) -> list[SseEvent]:
    """Start a stream, SIGTERM ``signal_target`` once it has begun, return every event after that."""
    with (
        httpx.Client(headers=headers(stack), timeout=30) as client,
        client.stream("POST", f"{stack.base_url}/v1/messages", json=body(prompt)) as response,
    ):
        assert response.status_code == 200
        events = read_events(response)
        assert next(events).name == "message_start"
        terminate(signal_target)
        return list(events)


def test_the_gateway_finishes_a_running_stream_refuses_new_connections_and_exits_0(private_stack: Stack) -> None:
    private_stack.start(orchestrators=1)
    gateway = private_stack.gateway
    with (
        httpx.Client(headers=headers(private_stack), timeout=30) as client,
        client.stream("POST", f"{private_stack.base_url}/v1/messages", json=body(SLOW_STREAM)) as response,
    ):
        events = read_events(response)
        assert next(events).name == "message_start"
        process = terminate(gateway)
        wait_until(lambda: refuses_connections(private_stack.base_url), timeout=3, what="the port closed")
        rest = list(events)
    assert rest[-1].name == "message_stop", [event.name for event in rest[-3:]]
    assert process.wait(timeout=15) == 0


def test_a_stream_outliving_the_grace_period_ends_with_an_overloaded_error(private_stack: Stack) -> None:
    private_stack.extra_env["SWITCHBOARD_SHUTDOWN_GRACE"] = "1"
    private_stack.start(orchestrators=1)
    tag = f"drain-{secrets.token_hex(4)}"
    signalled = time.monotonic()
    rest = stream_rest_after_signal(private_stack, f"[[fake:words=400]] [[fake:word_delay=0.05]] {tag}",
                                    private_stack.gateway)  # fmt: skip
    assert rest[-1].name == "error", [event.name for event in rest[-3:]]
    assert rest[-1].data["error"]["type"] == "overloaded_error"
    assert rest[-1].data["request_id"].startswith("req_")
    assert all(event.name != "message_stop" for event in rest)
    assert time.monotonic() - signalled < 8  # 1 s of grace, not the 20 s the stream would take
    wait_until(lambda: private_stack.fake.disconnected(tag), timeout=5, what="the upstream call cancelled")
    assert private_stack.gateway is not None and private_stack.gateway.process is not None
    assert private_stack.gateway.process.wait(timeout=15) == 0


def test_an_orchestrator_finishes_its_stream_leaves_the_queue_and_exits_0(private_stack: Stack) -> None:
    private_stack.start(orchestrators=1)
    leaving = private_stack.orchestrators[0]
    with httpx.Client(headers=headers(private_stack), timeout=30) as client:
        with client.stream("POST", f"{private_stack.base_url}/v1/messages", json=body(SLOW_STREAM)) as response:
            events = read_events(response)
            assert next(events).name == "message_start"  # served by the only orchestrator there is
            private_stack.add_orchestrator()
            wait_until(lambda: len(private_stack.execute_subscribers()) == 2, timeout=10, what="two orchestrators")
            process = terminate(leaving)
            rest = list(events)
        assert rest[-1].name == "message_stop", [event.name for event in rest[-3:]]
        assert process.wait(timeout=15) == 0
        answers = [
            client.post(f"{private_stack.base_url}/v1/messages", json=body("after", stream=False)) for _ in range(5)
        ]
    assert [answer.status_code for answer in answers] == [200] * 5
