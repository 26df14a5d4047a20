"""Agent mode through a real NATS and the fake provider: MCP tool calls run through the tool-broker's bus contract
(played by a stand-in), their results reach the model, and the client sees one ordinary answer."""

from __future__ import annotations

import json

import pytest

from fakes.anthropic_provider import FakeAnthropic, RecordedRequest
from integration.orchestrator.agent_harness import USAGE, WEATHER, answer, ask, completion_of, marked, sse_events, texts
from integration.orchestrator.orchestrator_harness import Gateway, message_body
from integration.orchestrator.tool_broker_stand_in import ToolBrokerStandIn, tool_input
from switchboard.orchestrator.agents.loop import stopped_notice


@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
async def test_two_mcp_calls_run_and_their_results_reach_the_model(
    agent_gateway: Gateway, tool_broker: ToolBrokerStandIn, fake_anthropic: FakeAnthropic, stream: bool
) -> None:
    await tool_broker.start()
    usage = f"[[fake:usage={json.dumps(USAGE)}]]"
    prompt, marker = marked(f"[[fake:agent_calls=read_note,add]] {tool_input(name='groceries', a=2, b=40)} {usage}")
    reply = await ask(agent_gateway, prompt, stream=stream)

    message = answer(reply)
    assert texts(message) == ["Calling read_note.", "Calling add.", "Results: note groceries | 42"]
    assert all(block["type"] == "text" for block in message["content"]), "MCP tool_use blocks stay server-side"
    assert message["stop_reason"] == "end_turn"
    assert {name: message["usage"][name] for name in USAGE} == {name: 3 * value for name, value in USAGE.items()}
    assert tool_broker.called() == [
        ("notes", "read_note", {"name": "groceries", "a": 2, "b": 40}),
        ("notes", "add", {"name": "groceries", "a": 2, "b": 40}),
    ]
    assert {(call.user_id, call.request_id, call.timeout_s) for call in tool_broker.calls} == {
        ("user-1", reply.request.request_id, 60.0)
    }

    upstream = fake_anthropic.requests_with_marker(marker)
    assert len(upstream) == 3
    assert all(request.json["stream"] is True for request in upstream), "iterations always stream"
    assert all("x-switchboard-agent" not in request.headers for request in upstream)
    assert_tool_round(upstream[1], tool_broker.calls[0].call_id, "note groceries")

    completion = await completion_of(agent_gateway, reply)
    assert (completion.agent, completion.agent_iterations, completion.streamed) == ("default", 3, stream)
    assert [(call.server_id, call.name, call.is_error) for call in completion.mcp_tool_calls] == [
        ("notes", "read_note", False),
        ("notes", "add", False),
    ]
    assert all(call.duration_ms > 0 for call in completion.mcp_tool_calls)
    tokens = (completion.input_tokens, completion.output_tokens)
    cache = (completion.cache_creation_input_tokens, completion.cache_read_input_tokens)
    assert (tokens, cache) == ((300, 21), (6, 9))
    assert (completion.status, completion.stop_reason, completion.tool_use_count) == ("succeeded", "end_turn", 0)


def assert_tool_round(request: RecordedRequest, call_id: str, result: str) -> None:
    """The second provider call carries the first turn and the tool's answer, MCP tools offered."""
    body = request.json
    assert [tool["name"] for tool in body["tools"]] == [
        "mcp__notes__add",
        "mcp__notes__fail",
        "mcp__notes__poison",
        "mcp__notes__read_note",
        "mcp__notes__slow",
        "mcp__other__add",
    ]
    assistant, user = body["messages"][-2:]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0] == {"type": "text", "text": "Calling read_note."}
    assert {key: assistant["content"][1][key] for key in ("type", "id", "name")} == {
        "type": "tool_use",
        "id": call_id,
        "name": "mcp__notes__read_note",
    }
    assert user == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": call_id, "content": [{"type": "text", "text": result}]}],
    }


async def test_the_stream_shows_every_iterations_text_with_increasing_indices(
    agent_gateway: Gateway, tool_broker: ToolBrokerStandIn
) -> None:
    await tool_broker.start()
    prompt, _ = marked(f"[[fake:agent_calls=add]] [[fake:thinking]] {tool_input(a=1, b=2)}")
    reply = await ask(agent_gateway, prompt, stream=True)

    events = sse_events(reply)
    starts = [payload for name, payload in events if name == "content_block_start"]
    assert [start["index"] for start in starts] == [0, 1, 2, 3]
    assert [start["content_block"]["type"] for start in starts] == ["thinking", "text", "thinking", "text"]
    names = [name for name, _ in events]
    assert names.count("message_start") == names.count("message_delta") == names.count("message_stop") == 1
    assert "mcp__notes__add" not in reply.data("sse")
    assert texts(answer(reply)) == ["Calling add.", "Results: 3"]
    assert reply.kinds()[:2] == ["accepted", "response_head"]


@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
async def test_a_client_tool_is_handed_back_to_the_client(
    agent_gateway: Gateway, tool_broker: ToolBrokerStandIn, stream: bool
) -> None:
    await tool_broker.start()
    prompt, _ = marked(f"[[fake:agent_calls=read_note,get_weather]] {tool_input(name='x', location='Paris')}")
    reply = await ask(agent_gateway, prompt, stream=stream, tools=[WEATHER])

    message = answer(reply)
    assert [block["type"] for block in message["content"]] == ["text", "text", "tool_use"]
    tool_use = message["content"][2]
    assert (tool_use["name"], tool_use["input"]) == ("get_weather", {"name": "x", "location": "Paris"})
    assert message["stop_reason"] == "tool_use"
    assert tool_broker.called() == [("notes", "read_note", {"name": "x", "location": "Paris"})]
    completion = await completion_of(agent_gateway, reply)
    assert (completion.tool_use_count, completion.tool_names, completion.stop_reason) == (
        1,
        ["get_weather"],
        "tool_use",
    )
    assert (completion.agent_iterations, len(completion.mcp_tool_calls)) == (2, 1)


@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
async def test_the_iteration_bound_ends_the_turn_with_a_notice(
    agent_gateway: Gateway, tool_broker: ToolBrokerStandIn, fake_anthropic: FakeAnthropic, stream: bool
) -> None:
    await tool_broker.start()
    prompt, marker = marked(f"[[fake:agent_calls_forever=add]] {tool_input(a=1, b=1)}")
    reply = await ask(agent_gateway, prompt, stream=stream, agent="bounded")

    message = answer(reply)
    assert texts(message) == ["Calling add."] * 3 + [stopped_notice(3)]
    assert message["stop_reason"] == "end_turn"
    assert len(fake_anthropic.requests_with_marker(marker)) == 3
    assert len(tool_broker.calls) == 2, "the last iteration's calls are not run"
    completion = await completion_of(agent_gateway, reply)
    assert (completion.agent, completion.agent_iterations, len(completion.mcp_tool_calls)) == ("bounded", 3, 2)
    assert completion.stop_reason == "end_turn"


async def test_a_model_alias_selects_the_agent_its_model_prompt_and_tools(
    agent_gateway: Gateway, tool_broker: ToolBrokerStandIn, fake_anthropic: FakeAnthropic
) -> None:
    await tool_broker.start()
    prompt, marker = marked(f"[[fake:agent_calls=add]] {tool_input(a=20, b=22)}")
    reply = await ask(agent_gateway, prompt, agent=None, model="switchboard-coder", system="Client prompt.")

    assert texts(answer(reply))[-1] == "Results: 42"
    first = fake_anthropic.requests_with_marker(marker)[0].json
    assert first["model"] == "claude-sonnet-4-5"
    assert first["system"] == "You are the coder agent.\n\nClient prompt."
    assert "mcp__other__add" not in [tool["name"] for tool in first["tools"]], "filtered by the agent's patterns"
    assert tool_broker.called() == [("notes", "add", {"a": 20, "b": 22})]
    completion = await completion_of(agent_gateway, reply)
    assert (completion.agent, completion.requested_model) == ("coder", "switchboard-coder")


async def test_count_tokens_in_agent_mode_counts_the_agents_prompt_and_tools(
    agent_gateway: Gateway, tool_broker: ToolBrokerStandIn, fake_anthropic: FakeAnthropic
) -> None:
    await tool_broker.start()
    prompt, marker = marked("count me")
    plain = await agent_gateway.call(agent_gateway.request(message_body(prompt), endpoint="count_tokens"))
    body = message_body(prompt, model="switchboard-coder")
    reply = await agent_gateway.call(agent_gateway.request(body, model="switchboard-coder", endpoint="count_tokens"))

    counted = fake_anthropic.requests_with_marker(marker)[-1].json
    assert counted["model"] == "claude-sonnet-4-5" and "stream" not in counted
    assert counted["system"] == "You are the coder agent."
    offered = sorted({f"mcp__notes__{tool.name}" for tool in tool_broker.tools})
    assert [tool["name"] for tool in counted["tools"]] == offered
    assert json.loads(reply.only("body").data)["input_tokens"] > json.loads(plain.only("body").data)["input_tokens"]
    assert len(tool_broker.listings) == 1, "no loop: the tools were listed once, to be counted"
