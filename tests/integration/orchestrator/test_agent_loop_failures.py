"""Agent mode when things go wrong: slow or missing tool-brokers, unknown agents, provider errors, cancels."""

from __future__ import annotations

import json
import time

import pytest

from fakes.anthropic_provider import FakeAnthropic
from integration.orchestrator.agent_harness import USAGE, answer, ask, completion_of, marked, texts
from integration.orchestrator.orchestrator_harness import Gateway, message_body, poll_until
from integration.orchestrator.tool_broker_stand_in import ToolBrokerStandIn


async def test_a_tool_that_does_not_answer_in_time_gives_the_model_an_error(
    agent_gateway: Gateway, tool_broker: ToolBrokerStandIn
) -> None:
    await tool_broker.start()
    prompt, _ = marked("[[fake:agent_calls=slow,fail]]")
    started = time.monotonic()
    reply = await ask(agent_gateway, prompt, agent="impatient")

    assert time.monotonic() - started < 5
    assert texts(answer(reply))[-1] == "Results: ERROR: the tool slow did not answer within 0.3 s | ERROR: boom"
    completion = await completion_of(agent_gateway, reply)
    assert [(call.name, call.is_error) for call in completion.mcp_tool_calls] == [("slow", True), ("fail", True)]
    assert completion.mcp_tool_calls[0].duration_ms >= 300


async def test_without_a_tool_broker_the_request_still_runs(
    agent_gateway: Gateway, fake_anthropic: FakeAnthropic
) -> None:
    prompt, marker = marked("[[fake:agent_calls=read_note]]")
    reply = await ask(agent_gateway, prompt)

    assert texts(answer(reply)) == ["tool read_note not offered"]
    assert "tools" not in fake_anthropic.requests_with_marker(marker)[0].json
    completion = await completion_of(agent_gateway, reply)
    assert (completion.status, completion.agent, completion.agent_iterations) == ("succeeded", "default", 1)


async def test_a_call_nobody_takes_is_an_error_result(agent_gateway: Gateway, tool_broker: ToolBrokerStandIn) -> None:
    await tool_broker.start(execute=False)
    reply = await ask(agent_gateway, marked("[[fake:agent_calls=read_note]]")[0])
    assert texts(answer(reply))[-1] == "Results: ERROR: no tool-broker is running"


async def test_an_unknown_agent_is_refused(agent_gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    prompt, marker = marked("hello")
    reply = await ask(agent_gateway, prompt, agent="nobody")

    error = reply.only("error")
    assert error.status == 400
    assert json.loads(error.data)["error"] == {
        "type": "invalid_request_error",
        "message": "x-switchboard-agent: unknown agent 'nobody'",
    }
    assert fake_anthropic.requests_with_marker(marker) == []


@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
async def test_a_provider_error_on_a_later_iteration_reaches_the_client(
    agent_gateway: Gateway, tool_broker: ToolBrokerStandIn, stream: bool
) -> None:
    await tool_broker.start()
    usage = f"[[fake:usage={json.dumps(USAGE)}]]"
    reply = await ask(agent_gateway, marked(f"[[fake:agent_calls=poison,add]] {usage}")[0], stream=stream)

    error = reply.only("error")
    assert error.status == 529
    assert json.loads(error.data)["error"]["type"] == "overloaded_error"
    assert ("response_head" in reply.kinds()) is stream, "a stream had begun: the gateway sends an error event"
    completion = await completion_of(agent_gateway, reply)
    assert (completion.status, completion.error_type, completion.agent_iterations) == ("failed", "overloaded_error", 2)
    assert (completion.input_tokens, completion.output_tokens) == (100, 7), "the first call was spent all the same"


async def test_a_provider_error_on_the_first_iteration_passes_through(agent_gateway: Gateway) -> None:
    reply = await ask(agent_gateway, marked("[[fake:status=429]] [[fake:agent_calls=add]]")[0], stream=True)
    error = reply.only("error")
    assert (error.status, error.headers.get("retry-after")) == (429, "1")
    assert "response_head" not in reply.kinds()


async def test_cancelling_during_a_tool_call_stops_at_once(
    agent_gateway: Gateway, tool_broker: ToolBrokerStandIn
) -> None:
    await tool_broker.start()
    body = message_body(marked(f"[[fake:agent_calls=slow]] [[fake:usage={json.dumps(USAGE)}]]")[0])
    request = agent_gateway.request(body, headers={"x-switchboard-agent": "default"})
    reply = await agent_gateway.open(request)
    await poll_until(lambda: bool(tool_broker.calls), timeout=5)

    cancelled_at = time.monotonic()
    await agent_gateway.cancel(request.request_id)
    await reply.finish(timeout=2)
    assert time.monotonic() - cancelled_at < 1
    completion = await completion_of(agent_gateway, reply)
    assert (completion.status, completion.agent_iterations) == ("cancelled", 1)
    assert completion.input_tokens == 100, "the call made before the cancel is still recorded"
    assert [call.name for call in completion.mcp_tool_calls] == [], "the cancelled call never finished"
