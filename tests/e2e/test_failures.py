"""What clients see when parts of the path fail: no orchestrator, a killed one, a dead or slow provider."""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import time

import httpx
import pytest

from e2e.sse import read_events
from support.processes import wait_until
from support.stack import Stack

pytestmark = pytest.mark.timeout(90)


def request_headers(stack: Stack) -> dict[str, str]:
    return {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}


def body(text: str, *, stream: bool = False, model: str = "claude-opus-5") -> dict[str, object]:
    return {"model": model, "max_tokens": 64, "stream": stream, "messages": [{"role": "user", "content": text}]}


def test_no_orchestrator_gives_529_fast(private_stack: Stack) -> None:
    private_stack.start(orchestrators=0)
    started = time.monotonic()
    response = httpx.post(
        f"{private_stack.base_url}/v1/messages", json=body("hi"), headers=request_headers(private_stack)
    )
    assert time.monotonic() - started < 2.0
    assert response.status_code == 529
    assert response.json()["error"]["type"] == "overloaded_error"
    assert httpx.get(f"{private_stack.base_url}/v1/health").json()["status"] == "degraded"


def test_unresponsive_orchestrator_gives_529_within_the_accept_timeout(private_stack: Stack) -> None:
    private_stack.start(orchestrators=1)
    frozen = private_stack.orchestrators[0]
    assert frozen.process is not None
    os.kill(frozen.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = httpx.post(
            f"{private_stack.base_url}/v1/messages", json=body("hi"), headers=request_headers(private_stack), timeout=10
        )
        elapsed = time.monotonic() - started
    finally:
        os.kill(frozen.process.pid, signal.SIGCONT)
    assert response.status_code == 529, response.text
    assert elapsed < 2.5


def test_two_orchestrators_share_the_load(private_stack: Stack) -> None:
    private_stack.start(orchestrators=2)
    wait_until(lambda: len(private_stack.execute_subscribers()) == 2, timeout=10, what="two subscribed orchestrators")
    before = {c["cid"]: c["in_msgs"] for c in private_stack.execute_subscribers()}
    with httpx.Client(headers=request_headers(private_stack), timeout=30) as client:
        for _ in range(40):
            assert client.post(f"{private_stack.base_url}/v1/messages", json=body("hi")).status_code == 200
    after = {c["cid"]: c["in_msgs"] for c in private_stack.execute_subscribers()}
    served = [after[cid] - before[cid] for cid in before]
    assert all(count >= 5 for count in served), f"messages received per orchestrator: {served}"


def test_orchestrator_killed_mid_stream_gives_error_event_and_the_other_keeps_serving(private_stack: Stack) -> None:
    private_stack.start(orchestrators=1)
    first = private_stack.orchestrators[0]
    prompt = "[[fake:words=400]] [[fake:word_delay=0.05]]"
    with httpx.Client(headers=request_headers(private_stack), timeout=30) as client:
        with client.stream("POST", f"{private_stack.base_url}/v1/messages", json=body(prompt, stream=True)) as response:
            assert response.status_code == 200
            events = read_events(response)
            assert next(events).name == "message_start"
            private_stack.add_orchestrator()
            wait_until(lambda: len(private_stack.execute_subscribers()) == 2, timeout=10, what="second orchestrator")
            first.kill()
            killed_at = time.monotonic()
            rest = list(events)
        assert rest[-1].name == "error", [event.name for event in rest[-3:]]
        assert rest[-1].arrived - killed_at < 5.0
        assert rest[-1].data["error"]["type"] in {"api_error", "overloaded_error"}
        assert rest[-1].data["request_id"] == response.headers["request-id"]
        assert all(event.name != "message_stop" for event in rest)
        after = client.post(f"{private_stack.base_url}/v1/messages", json=body("still there?"))
        assert after.status_code == 200, after.text


def test_client_disconnect_cancels_the_upstream_stream(stack: Stack) -> None:
    tag = f"cancel-{secrets.token_hex(4)}"
    prompt = f"[[fake:words=400]] [[fake:word_delay=0.05]] {tag}"
    with httpx.Client(headers=request_headers(stack), timeout=30) as client:
        with client.stream("POST", f"{stack.base_url}/v1/messages", json=body(prompt, stream=True)) as response:
            events = read_events(response)
            for _ in range(4):
                next(events)
        closed_at = time.monotonic()
    wait_until(lambda: stack.fake.disconnected(tag), timeout=3, what="upstream cancellation")
    disconnected_at = stack.fake.disconnected_at(tag)
    assert disconnected_at is not None
    assert disconnected_at - closed_at < 1.0


def test_upstream_drop_mid_stream_gives_error_event(stack: Stack) -> None:
    with httpx.stream(
        "POST",
        f"{stack.base_url}/v1/messages",
        json=body("[[fake:words=10]] [[fake:drop_after=3]]", stream=True),
        headers=request_headers(stack),
        timeout=30,
    ) as response:
        names = [event.name for event in read_events(response)]
    assert names[0] == "message_start"
    assert names[-1] == "error"
    assert "message_stop" not in names


def test_unreachable_provider_gives_anthropic_shaped_5xx(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.base_url}/v1/messages", json=body("hi", model="unreachable-model"), headers=request_headers(stack)
    )
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["type"] == "api_error"
    assert stack.fake.api_key not in response.text


def test_provider_timeout_gives_504(private_stack: Stack) -> None:
    private_stack.extra_env["SWITCHBOARD_UPSTREAM_READ_TIMEOUT"] = "1"
    private_stack.start(orchestrators=1)
    response = httpx.post(
        f"{private_stack.base_url}/v1/messages",
        json=body("[[fake:delay=3]]"),
        headers=request_headers(private_stack),
        timeout=30,
    )
    assert response.status_code == 504, response.text
    assert response.json()["error"]["type"] == "timeout_error"


def test_silent_upstream_still_gets_pings_to_the_client(private_stack: Stack) -> None:
    private_stack.extra_env["SWITCHBOARD_CLIENT_PING_INTERVAL"] = "1"
    private_stack.start(orchestrators=1)
    prompt = "[[fake:words=4]] [[fake:stall_after=2,4.5]]"
    with httpx.stream(
        "POST",
        f"{private_stack.base_url}/v1/messages",
        json=body(prompt, stream=True),
        headers=request_headers(private_stack),
        timeout=30,
    ) as response:
        events = list(read_events(response))
    gaps = [later.arrived - earlier.arrived for earlier, later in itertools.pairwise(events)]
    assert sum(1 for event in events if event.name == "ping") >= 3
    assert max(gaps) < 2.0
    assert events[-1].name == "message_stop"


def test_client_giving_up_on_a_non_streaming_request_cancels_the_upstream_call(stack: Stack) -> None:
    tag = f"cancel-{secrets.token_hex(4)}"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{stack.base_url}/v1/messages", json=body(f"[[fake:delay=5]] {tag}"), headers=request_headers(stack),
            timeout=httpx.Timeout(5, read=1.0),
        )  # fmt: skip
    gave_up_at = time.monotonic()
    wait_until(lambda: stack.fake.disconnected(tag), timeout=3, what="upstream cancellation")
    disconnected_at = stack.fake.disconnected_at(tag)
    assert disconnected_at is not None
    assert disconnected_at - gave_up_at < 1.0


@pytest.mark.timeout(60)
def test_default_ping_interval_is_fifteen_seconds_of_silence(private_stack: Stack) -> None:
    private_stack.start(orchestrators=1)
    prompt = "[[fake:words=4]] [[fake:stall_after=2,16.5]]"
    with httpx.stream(
        "POST",
        f"{private_stack.base_url}/v1/messages",
        json=body(prompt, stream=True),
        headers=request_headers(private_stack),
        timeout=30,
    ) as response:
        events = list(read_events(response))
    deltas = [index for index, event in enumerate(events) if event.name == "content_block_delta"]
    silence = events[deltas[1] : deltas[2]]  # the fake goes quiet after its second delta
    pings = [event for event in silence if event.name == "ping"]
    assert len(pings) == 1
    assert 14.0 <= pings[0].arrived - silence[0].arrived <= 16.5
    assert events[-1].name == "message_stop"


def test_rate_limits_keep_their_retry_advice(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.base_url}/v1/messages", json=body("[[fake:status=429]]"), headers=request_headers(stack)
    )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
