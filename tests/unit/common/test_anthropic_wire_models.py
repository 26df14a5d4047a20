"""Anthropic wire models: lossless round trips, open unions, the Message shape and SSE framing."""

from __future__ import annotations

import copy
import json
from typing import Any

import anthropic
import pytest
from pydantic import TypeAdapter, ValidationError

from switchboard.common.anthropic import (
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    CustomTool,
    ErrorResponse,
    InputJsonDelta,
    Message,
    MessageCreateParams,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStopEvent,
    ModelInfo,
    ModelsPage,
    PingEvent,
    ServerTool,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingAdaptive,
    ToolReferenceBlock,
    ToolResultBlock,
    ToolUseBlock,
    UnknownBlock,
    UnknownDelta,
    UnknownEvent,
    Usage,
    format_sse,
)

STREAM_EVENT: TypeAdapter[Any] = TypeAdapter(StreamEvent)

CLAUDE_CODE_BODY: dict[str, Any] = {
    "model": "claude-sonnet-5-5",
    "max_tokens": 32000,
    "stream": True,
    "metadata": {"user_id": '{"device_id":"d1","account_uuid":"a1","session_id":"s1"}'},
    "system": [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.300"},
        {
            "type": "text",
            "text": "You are Claude Code, Anthropic's official CLI for Claude.",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
    ],
    "tools": [
        {
            "name": "Bash",
            "description": "Run a shell command.",
            "input_schema": {
                "type": "object",
                "properties": {"command": {"type": "string"}},
                "required": ["command"],
                "additionalProperties": False,
                "$schema": "http://json-schema.org/draft-07/schema#",
            },
            "strict": True,
        },
        {
            "type": "custom",
            "name": "mcp__github__search_issues",
            "description": "Search issues.",
            "input_schema": {"type": "object", "properties": {}},
            "defer_loading": True,
            "cache_control": {"type": "ephemeral"},
        },
        {"type": "tool_search_tool_bm25_20251119", "name": "tool_search_tool_bm25"},
        {"type": "browser_toolset_20260801", "configs": {"headless": True}},
    ],
    "tool_choice": {"type": "auto", "disable_parallel_tool_use": False},
    "thinking": {"type": "adaptive"},
    "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "messages": [
        {"role": "user", "content": "List the open issues about streaming."},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Search for the tool first.", "signature": "EqQBCkYIBxgCKkA="},
                {
                    "type": "tool_use",
                    "id": "toolu_01A",
                    "name": "tool_search_tool_bm25",
                    "input": {"query": "github issues"},
                    "caller": {"type": "direct"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A",
                    "content": [
                        {"type": "tool_reference", "tool_name": "mcp__github__search_issues"},
                        {"type": "text", "text": "1 tool loaded", "cache_control": {"type": "ephemeral"}},
                    ],
                    "is_error": False,
                },
                {"type": "holographic_memory", "payload": {"layers": [1, 2]}, "cache_control": None},
            ],
        },
        {
            "role": "system",
            "content": [
                {"type": "text", "text": "The user switched to plan mode."},
                {"type": "tool_addition", "tool": {"type": "tool_reference", "name": "ExitPlanMode"}},
            ],
        },
    ],
    "x_future": {"nested": [1, None, "two"]},
}

TOOL_USE_TRANSCRIPT = (
    "event: message_start\n"
    'data: {"type":"message_start","message":{"id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message",'
    '"role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,'
    '"usage":{"input_tokens":377,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1,'
    '"service_tier":"standard"}}}\n\n'
    "event: content_block_start\n"
    'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
    "event: ping\n"
    'data: {"type": "ping"}\n\n'
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I\'ll check the weather."}}'
    "\n\n"
    "event: content_block_stop\n"
    'data: {"type":"content_block_stop","index":0}\n\n'
    "event: content_block_start\n"
    'data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use",'
    '"id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":"get_weather","input":{}}}\n\n'
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}\n\n'
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",'
    '"partial_json":"{\\"location\\": \\"Paris\\"}"}}\n\n'
    "event: content_block_stop\n"
    'data: {"type":"content_block_stop","index":1}\n\n'
    "event: message_delta\n"
    'data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},'
    '"usage":{"output_tokens":65}}\n\n'
    "event: message_stop\n"
    'data: {"type":"message_stop"}\n\n'
)


def split_sse(text: str) -> list[tuple[str, str]]:
    frames = []
    for chunk in text.split("\n\n"):
        if chunk:
            event_line, data_line = chunk.split("\n")
            frames.append((event_line.removeprefix("event: "), data_line.removeprefix("data: ")))
    return frames


def test_claude_code_request_round_trips_unchanged() -> None:
    sent = copy.deepcopy(CLAUDE_CODE_BODY)

    params = MessageCreateParams.model_validate(sent)

    assert params.model_dump(mode="json", exclude_unset=True) == CLAUDE_CODE_BODY
    assert json.loads(params.model_dump_json(exclude_unset=True)) == CLAUDE_CODE_BODY
    assert sent == CLAUDE_CODE_BODY


def test_claude_code_request_is_typed() -> None:
    params = MessageCreateParams.model_validate(CLAUDE_CODE_BODY)

    assert isinstance(params.system, list)
    assert params.system[1].cache_control is not None
    assert params.system[1].cache_control.ttl == "1h"
    assert params.tools is not None
    assert [type(tool) for tool in params.tools] == [CustomTool, CustomTool, ServerTool, ServerTool]
    assert isinstance(params.tools[1], CustomTool)
    assert params.tools[1].defer_loading is True
    assert isinstance(params.thinking, ThinkingAdaptive)
    assert params.output_config is not None
    assert params.output_config.format is not None
    assert params.output_config.format.json_schema == {"type": "object"}
    assert [message.role for message in params.messages] == ["user", "assistant", "user", "system"]
    user_blocks = params.messages[2].content
    assert isinstance(user_blocks, list)
    tool_result, future_block = user_blocks
    assert isinstance(tool_result, ToolResultBlock)
    assert isinstance(tool_result.content, list)
    assert isinstance(tool_result.content[0], ToolReferenceBlock)
    assert isinstance(future_block, UnknownBlock)
    assert future_block.type == "holographic_memory"
    assert params.model_extra == {"x_future": {"nested": [1, None, "two"]}}


def test_unknown_message_role_is_rejected() -> None:
    with pytest.raises(ValidationError):
        MessageCreateParams.model_validate({**CLAUDE_CODE_BODY, "messages": [{"role": "tool", "content": "x"}]})


@pytest.mark.parametrize("max_tokens", [0, 1, 128000])
def test_max_tokens_zero_or_more_is_valid(max_tokens: int) -> None:
    params = MessageCreateParams.model_validate({"model": "m", "messages": [], "max_tokens": max_tokens})

    assert params.max_tokens == max_tokens


def test_negative_or_missing_max_tokens_is_invalid() -> None:
    with pytest.raises(ValidationError):
        MessageCreateParams.model_validate({"model": "m", "messages": [], "max_tokens": -1})
    with pytest.raises(ValidationError):
        MessageCreateParams.model_validate({"model": "m", "messages": []})


def test_tool_use_transcript_parses_into_event_classes() -> None:
    events = [STREAM_EVENT.validate_json(data) for _, data in split_sse(TOOL_USE_TRANSCRIPT)]

    assert [type(event) for event in events] == [
        MessageStartEvent,
        ContentBlockStartEvent,
        PingEvent,
        ContentBlockDeltaEvent,
        ContentBlockStopEvent,
        ContentBlockStartEvent,
        ContentBlockDeltaEvent,
        ContentBlockDeltaEvent,
        ContentBlockStopEvent,
        MessageDeltaEvent,
        MessageStopEvent,
    ]
    start, text_start, _, text_delta, _, tool_start, _, args_delta, _, message_delta, _ = events
    assert start.message.usage.input_tokens == 377
    assert start.message.stop_reason is None
    assert isinstance(text_start.content_block, TextBlock)
    assert isinstance(text_delta.delta, TextDelta)
    assert isinstance(tool_start.content_block, ToolUseBlock)
    assert tool_start.content_block.input == {}
    assert isinstance(args_delta.delta, InputJsonDelta)
    assert json.loads(args_delta.delta.partial_json) == {"location": "Paris"}
    assert message_delta.delta.stop_reason == "tool_use"
    assert message_delta.usage.output_tokens == 65


def test_transcript_events_reframe_byte_for_byte() -> None:
    frames = [(name, data) for name, data in split_sse(TOOL_USE_TRANSCRIPT) if name != "ping"]

    for name, data in frames:
        assert format_sse(STREAM_EVENT.validate_json(data)) == f"event: {name}\ndata: {data}\n\n".encode()


def test_unknown_events_and_deltas_are_kept() -> None:
    future_event = {"type": "content_block_annotation", "index": 0, "note": {"a": 1}}
    future_delta = {"type": "content_block_delta", "index": 2, "delta": {"type": "hologram_delta", "z": [1]}}

    event = STREAM_EVENT.validate_python(future_event)
    delta_event = STREAM_EVENT.validate_python(future_delta)

    assert isinstance(event, UnknownEvent)
    assert isinstance(delta_event.delta, UnknownDelta)
    assert STREAM_EVENT.dump_python(event, mode="json", exclude_unset=True) == future_event
    assert STREAM_EVENT.dump_python(delta_event, mode="json", exclude_unset=True) == future_delta


def test_format_sse_frames_models_and_dicts() -> None:
    delta = ContentBlockDeltaEvent(index=3, delta=TextDelta(text="héllo\nworld"))

    assert format_sse(delta) == (
        b"event: content_block_delta\n"
        + 'data: {"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"héllo\\nworld"}}'.encode()
        + b"\n\n"
    )
    assert format_sse({"type": "ping"}) == b'event: ping\ndata: {"type":"ping"}\n\n'
    assert format_sse(PingEvent()) == b'event: ping\ndata: {"type":"ping"}\n\n'


def test_format_sse_needs_a_type() -> None:
    with pytest.raises(ValueError, match="type"):
        format_sse({"index": 0})


def test_message_always_serialises_stop_sequence_and_usage() -> None:
    message = Message(
        id="msg_01",
        model="claude-haiku-4-5",
        content=[TextBlock(text="Hi")],
        stop_reason="end_turn",
        usage=Usage(input_tokens=10, output_tokens=2),
    )

    body = message.model_dump(mode="json", exclude_unset=True)

    assert body == {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 2},
    }
    assert anthropic.types.Message.model_validate(body).stop_sequence is None


def test_parsed_message_without_stop_sequence_gains_it() -> None:
    upstream = {
        "id": "msg_02",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 5, "output_tokens": 7, "cache_creation": {"ephemeral_5m_input_tokens": 3}},
    }

    body = Message.model_validate(upstream).model_dump(mode="json", exclude_unset=True)

    assert body == {**upstream, "stop_sequence": None}


def test_models_page_shape() -> None:
    page = ModelsPage(
        data=[ModelInfo(id="claude-opus-5", display_name="Claude Opus 5", created_at="2026-05-01T00:00:00Z")],
        has_more=False,
        first_id="claude-opus-5",
        last_id="claude-opus-5",
    )

    assert page.model_dump(mode="json", exclude_unset=True) == {
        "data": [
            {
                "type": "model",
                "id": "claude-opus-5",
                "display_name": "Claude Opus 5",
                "created_at": "2026-05-01T00:00:00Z",
            }
        ],
        "has_more": False,
        "first_id": "claude-opus-5",
        "last_id": "claude-opus-5",
    }
    empty = ModelsPage(data=[], has_more=False, first_id=None, last_id=None)
    assert empty.model_dump(mode="json", exclude_unset=True) == {
        "data": [],
        "has_more": False,
        "first_id": None,
        "last_id": None,
    }


def test_models_page_requires_has_more() -> None:
    with pytest.raises(ValidationError):
        ModelsPage.model_validate({"data": [], "first_id": None, "last_id": None})


def test_error_response_round_trips() -> None:
    body = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "Spend limit reached",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }

    error = ErrorResponse.model_validate(body)

    assert error.error.details is not None
    assert error.error.details.error_code == "enforced_spend_limit_reached"
    assert error.model_dump(mode="json", exclude_unset=True) == body
    assert isinstance(STREAM_EVENT.validate_python(body), ErrorResponse)
