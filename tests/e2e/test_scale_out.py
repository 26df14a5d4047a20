"""Scale-out, proven: two replicas of every service on one NATS, steady streaming traffic with tool calls, and
one replica of each kind SIGKILLed in turn. Only requests in flight on a killed process may fail, each in a way
its client can read; every completed request is billed exactly once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest

from fakes.lago import FakeLago
from support.connectors import NOTES_SERVER, ConnectorProcess, live_connections
from support.mcp_agents import connector
from support.metering import metering_env
from support.processes import wait_until
from support.scale_out import (
    AGENT,
    Attempt,
    Client,
    Kill,
    Outcome,
    kill,
    orchestrator_inflight,
    recorded_request_ids,
    resent_transaction_ids,
)
from support.stack import Stack, routes

pytestmark = pytest.mark.timeout(90)  # about 40 s on 2 cores, half of it starting twelve processes

PAUSE = 3.0
"""Traffic runs on the survivors this long after each kill."""
TOOL_TIMEOUT = 3
"""The agent's tool timeout: how long a call lost with its tool-broker holds its request up."""


@pytest.fixture
def lago() -> Iterator[FakeLago]:
    with FakeLago() as fake:
        yield fake


@pytest.fixture
def replicated(private_stack: Stack, lago: FakeLago) -> Iterator[tuple[Stack, list[ConnectorProcess]]]:
    """Two of everything, and one ``switchboard connect`` attached to each tool-broker (same user and server)."""
    stack = private_stack
    stack.routing_config = {**routes(None), "agent_config": {AGENT: {"tool_timeout": TOOL_TIMEOUT}}}
    stack.start(orchestrators=2)
    stack.add_gateway()
    brokers = [stack.add_tool_broker(), stack.add_tool_broker()]
    for _ in range(2):
        stack.add_metering(**metering_env(lago, lago_timeout=2))
    connectors = [connector(stack, "notes", NOTES_SERVER, base_url=url) for url in brokers]
    try:
        connectors[0].wait_registered(count=2)
        yield stack, connectors
    finally:
        for process in connectors:
            process.stop()


def call_in_flight_on(stack: Stack, holder: ConnectorProcess) -> bool:
    connections = live_connections(stack.base_url, stack.api_key, "notes")
    return any(c["inflight"] > 0 and c["connection_id"] in holder.log() for c in connections)


def streaming_on(clients: list[Client], gateway: int) -> bool:
    return any(c.current is not None and c.current.gateway == gateway and c.current.request_id for c in clients)


def run_and_kill(stack: Stack, lago: FakeLago, connectors: list[ConnectorProcess], clients: list[Client]) -> list[Kill]:
    """Kill one replica of each kind, each once it has work in flight, with traffic running on the survivors."""
    kills: list[Kill] = []
    for client in clients:
        client.start()
    wait_until(lambda: sum(len(c.attempts) for c in clients) >= 8, timeout=30, what="traffic to flow")

    wait_until(lambda: orchestrator_inflight(stack.orchestrator_ops_ports[0]) > 0, timeout=10, what="busy orchestrator")
    kills.append(kill("orchestrator", "0", stack.orchestrators[0]))
    time.sleep(PAUSE)

    broker_port, broker = stack.tool_brokers[1]
    wait_until(lambda: call_in_flight_on(stack, connectors[1]), timeout=15, what="a tool call on the second broker")
    kills.append(kill("tool-broker", str(broker_port), broker))
    time.sleep(PAUSE)

    batches = lago.batch_calls
    lago.delay_next(8, 1.0)  # stored, answered late: each replica holds an unacked batch Lago already has
    wait_until(lambda: lago.batch_calls >= batches + 4, timeout=15, what="a batch in flight on each metering")
    kills.append(kill("metering", "0", stack.meterings[0]))
    time.sleep(PAUSE)

    gateway_port, gateway = stack.extra_gateways[0]
    wait_until(lambda: streaming_on(clients, 1), timeout=10, what="a stream through the second gateway")
    kills.append(kill("gateway", str(gateway_port), gateway))
    time.sleep(PAUSE)
    return kills


def excused(attempt: Attempt, kills: dict[str, Kill]) -> bool:
    """Whether ``attempt`` may have failed the way it did: it was in flight on a process killed under it."""
    if attempt.outcome is Outcome.ANTHROPIC_ERROR:
        on_broker = attempt.agent and attempt.in_flight_during(kills["tool-broker"])
        return attempt.in_flight_during(kills["orchestrator"]) or on_broker
    if attempt.outcome is Outcome.TOOL_FAILED:
        return attempt.agent and attempt.in_flight_during(kills["tool-broker"])
    if attempt.outcome is Outcome.CONNECTION_LOST:
        return attempt.gateway == 1 and attempt.in_flight_during(kills["gateway"])
    if attempt.outcome is Outcome.REFUSED:  # retried on the other gateway
        return attempt.gateway == 1 and attempt.ended >= kills["gateway"].at
    return attempt.outcome is Outcome.COMPLETED


def describe(attempts: list[Attempt], kills: list[Kill], stack: Stack) -> str:
    outcomes = Counter((a.outcome.value, "agent" if a.agent else "plain") for a in attempts)
    lines = [f"kills: {kills}", f"outcomes: {dict(outcomes)}"]
    lines += [f"  {a}" for a in attempts if a.outcome is not Outcome.COMPLETED][:40]
    return "\n".join(lines) + "\n--- logs ---\n" + stack.logs()[-8000:]


def metering_pending(stack: Stack) -> object:
    """The usage stream's durable consumer backlog, as the gateway's health reports it."""
    components = (stack.health() or {}).get("components")
    metering = components.get("metering") if isinstance(components, dict) else None
    return metering.get("pending") if isinstance(metering, dict) else None


def settle(stack: Stack, lago: FakeLago, completed: list[str]) -> None:
    """Wait until the surviving orchestrator is idle, metering has nothing pending and Lago has every request."""
    wait_until(lambda: orchestrator_inflight(stack.orchestrator_ops_ports[1]) == 0, timeout=20, what="idle")

    def billed() -> bool:
        return metering_pending(stack) == 0 and set(completed) <= set(lago.transaction_ids())

    wait_until(billed, timeout=30, what="every completed request billed", interval=0.25)


def assert_only_requests_on_killed_processes_failed(attempts: list[Attempt], kills: list[Kill], report: str) -> None:
    when = {each.kind: each for each in kills}
    assert [a for a in attempts if not excused(a, when)] == [], report
    assert all(any(r.retry_of is a for r in attempts) for a in attempts if a.outcome is Outcome.REFUSED), report
    # The kills hit work in flight (the test waited for some before each), and the survivors served both kinds.
    on_orchestrator = [a for a in attempts if a.in_flight_during(when["orchestrator"])]
    assert any(a.outcome is Outcome.ANTHROPIC_ERROR for a in on_orchestrator), report
    assert any(a.agent and a.in_flight_during(when["tool-broker"]) for a in attempts), report
    assert any(a.outcome is Outcome.CONNECTION_LOST for a in attempts), report
    for agent in (False, True):
        served = [a for a in attempts if a.agent is agent and a.outcome is Outcome.COMPLETED]
        assert len({a.gateway for a in served}) == 2 and len(served) >= 10, report


def assert_billed_exactly_once(stack: Stack, lago: FakeLago, completed: list[str]) -> None:
    """Every completed request recorded and billed once; Lago holds exactly what the usage stream recorded."""
    settle(stack, lago, completed)
    recorded, billed = recorded_request_ids(stack.nats_url, stack.prefix), lago.transaction_ids()
    assert [rid for rid, count in Counter(recorded).items() if count > 1] == [], "recorded twice"
    assert [rid for rid, count in Counter(billed).items() if count > 1] == [], "billed twice"
    assert set(completed) - set(recorded) == set(), "completed requests without a CompletionRecorded"
    assert set(recorded) ^ set(billed) == set(), "recorded but not billed, or billed but not recorded"
    assert resent_transaction_ids(lago) != [], "the killed metering replica died holding a batch Lago had stored"


def test_two_of_everything_survive_losing_one_of_each(
    replicated: tuple[Stack, list[ConnectorProcess]], lago: FakeLago
) -> None:
    stack, connectors = replicated
    gateways = [stack.base_url, f"http://127.0.0.1:{stack.extra_gateways[0][0]}"]
    clients = [Client(f"c{index}", gateways, stack.api_key) for index in range(4)]
    try:
        kills = run_and_kill(stack, lago, connectors, clients)
    finally:
        attempts = [attempt for client in clients for attempt in client.stop()]
    report = describe(attempts, kills, stack)
    assert_only_requests_on_killed_processes_failed(attempts, kills, report)
    completed = [a.request_id or "" for a in attempts if a.outcome in (Outcome.COMPLETED, Outcome.TOOL_FAILED)]
    assert "" not in completed, report
    assert_billed_exactly_once(stack, lago, completed)
