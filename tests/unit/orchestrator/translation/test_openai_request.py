"""Anthropic request bodies → OpenAI Chat Completions bodies: pitfalls P9 to P34, degrades, rejections, versions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.common.errors import InvalidRequestError
from switchboard.orchestrator.translation.anthropic_openai.request import to_openai_request
from switchboard.orchestrator.translation.anthropic_openai.signatures import ThinkingSigner

SIGNER = ThinkingSigner(b"test-signing-key")
ABSENT = "<absent>"
Body = dict[str, Any]


def translate(version: str = "2023-06-01", *, limit: int | None = None, **fields: Any) -> Body:
    body: Body = {"model": "claude-alias", "max_tokens": 1024, "messages": [user("hi")], **fields}
    return to_openai_request(
        body, upstream_model="provider-model", api_version=version, signer=SIGNER, max_output_tokens=limit
    )


def rejected(version: str = "2023-06-01", **fields: Any) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        translate(version, **fields)
    return caught.value.message


def user(*content: Any) -> Body:
    return {
        "role": "user",
        "content": content[0] if len(content) == 1 and isinstance(content[0], str) else list(content),
    }


def assistant(*content: Any) -> Body:
    return {"role": "assistant", "content": list(content)}


def text(value: str, **extra: Any) -> Body:
    return {"type": "text", "text": value, **extra}


def image(data: str = "iVBORw0KGgo=") -> Body:
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def tool_use(tool_id: str, name: str = "Bash", **arguments: Any) -> Body:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": arguments}


def tool_result(tool_id: str, content: Any = "ok", **extra: Any) -> Body:
    return {"type": "tool_result", "tool_use_id": tool_id, "content": content, **extra}


def call(tool_id: str, name: str = "Bash", arguments: str = "{}") -> Body:
    return {"id": tool_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def parts(*texts: str) -> list[Body]:
    return [text(value) for value in texts]


PNG_URL: Body = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
TOOL: Body = {"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {}}}
FUNCTION: Body = {
    "type": "function",
    "function": {"name": "Bash", "description": "Run a command", "parameters": TOOL["input_schema"]},
}
CANNOT = "; it cannot be sent to a model served by an OpenAI-compatible provider"
CC_USER_ID = json.dumps({"device_id": "d" * 64, "account_uuid": "a" * 36, "session_id": "s" * 36})

PITFALLS = [
    pytest.param(
        {
            "messages": [
                user(text(""), text(" \n"), text("hi")),
                assistant(text(""), tool_use("toolu_1")),
                user(tool_result("toolu_1"), text("  ")),
                user(" "),
            ]
        },
        None,
        {
            "messages": [
                {"role": "user", "content": parts("hi")},
                {"role": "assistant", "content": None, "tool_calls": [call("toolu_1")]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "ok"},
            ]
        },
        id="P9-empty-and-whitespace-text-normalised-away",
    ),
    pytest.param({"stop_sequences": ["STOPPROBE"]}, None, {"stop": ["STOPPROBE"]}, id="P11-stop-sequences-to-stop"),
    pytest.param(
        {"stop_sequences": ["a", "b", "c", "d", "e"]}, None, {"stop": ["a", "b", "c", "d"]}, id="P11-first-four-kept"
    ),
    pytest.param(
        {
            "messages": [
                user("go"),
                assistant(tool_use("toolu_1")),
                user(tool_result("toolu_1", [text("see"), image()])),
            ]
        },
        None,
        {
            "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": None, "tool_calls": [call("toolu_1")]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": [*parts("see"), PNG_URL]},
            ]
        },
        id="P12-tool-result-list-keeps-images",
    ),
    pytest.param(
        {
            "messages": [
                user("find"),
                assistant(tool_use("toolu_1", "ToolSearch")),
                user(tool_result("toolu_1", [{"type": "tool_reference", "tool_name": "Grep"}])),
                {
                    "role": "system",
                    "content": [
                        {"type": "tool_addition", "tool": {"type": "tool_reference", "tool_name": "Grep"}},
                        {"type": "tool_addition", "tool": {"name": "Glob", "input_schema": {}}},
                        {"type": "tool_removal", "tool": {"type": "tool_reference", "tool_name": "Bash"}},
                    ],
                },
            ]
        },
        None,
        {
            "messages": [
                {"role": "user", "content": "find"},
                {"role": "assistant", "content": None, "tool_calls": [call("toolu_1", "ToolSearch")]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": parts("[tool reference: Grep]")},
                {"role": "system", "content": parts("[tools added: Grep, Glob]", "[tools removed: Bash]")},
            ]
        },
        id="P13-tool-reference-addition-removal-degrade-to-notes",
    ),
    pytest.param(
        {"messages": [user("go"), assistant(text("before"), tool_use("toolu_1", command="ls"), text("after"))]},
        None,
        {
            "messages": [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": "before\n\nafter",
                    "tool_calls": [call("toolu_1", arguments='{"command": "ls"}')],
                },
            ]
        },
        id="P14-text-after-tool-use-goes-to-content",
    ),
    pytest.param(
        {
            "messages": [
                user("go"),
                assistant(
                    {"type": "thinking", "thinking": "from Anthropic", "signature": "EqQBCkgIBxABGAIiQL"},
                    {"type": "thinking", "thinking": "forged", "signature": "sbsig1.not-a-real-mac"},
                    {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va"},
                    text("answer"),
                ),
            ]
        },
        None,
        {"messages": [{"role": "user", "content": "go"}, {"role": "assistant", "content": "answer"}]},
        id="P15-foreign-and-forged-thinking-dropped",
    ),
    pytest.param(
        {
            "messages": [
                user("go"),
                assistant({"type": "thinking", "thinking": "plan", "signature": SIGNER.sign("plan")}, tool_use("t1")),
                user(tool_result("t1")),
            ]
        },
        None,
        {
            "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": None, "tool_calls": [call("t1")], "reasoning_content": "plan"},
                {"role": "tool", "tool_call_id": "t1", "content": "ok"},
            ]
        },
        id="P16-gateway-signed-thinking-replayed-as-reasoning-content",
    ),
    pytest.param(
        {
            "system": [
                text("x-anthropic-billing-header: cc"),
                text("You are Claude Code.", cache_control={"type": "ephemeral"}),
            ]
        },
        None,
        {
            "messages": [
                {"role": "system", "content": parts("x-anthropic-billing-header: cc", "You are Claude Code.")},
                {"role": "user", "content": "hi"},
            ]
        },
        id="P19-system-blocks-kept-as-ordered-parts",
    ),
    pytest.param({"metadata": {"user_id": "user_abc-1"}}, None, {"user": "user_abc-1"}, id="P28-plain-user-id-kept"),
    pytest.param({"max_tokens": 32000}, 16384, {"max_tokens": 16384}, id="P29-max-tokens-clamped"),
    pytest.param({"max_tokens": 1000}, 16384, {"max_tokens": 1000}, id="P29-max-tokens-under-limit-kept"),
    pytest.param(
        {"tools": [], "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}},
        None,
        {"tools": ABSENT, "tool_choice": ABSENT, "parallel_tool_calls": ABSENT},
        id="P33-no-tool-choice-without-tools",
    ),
    pytest.param(
        {"tools": [TOOL], "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}},
        None,
        {"tools": [FUNCTION], "tool_choice": "auto", "parallel_tool_calls": False},
        id="P34-disable-parallel-tool-use",
    ),
    pytest.param(
        {"tools": [TOOL], "tool_choice": {"type": "none"}},
        None,
        {"tool_choice": "none", "parallel_tool_calls": ABSENT},
        id="P34-none-stays-none",
    ),
]


@pytest.mark.parametrize(("fields", "limit", "expected"), PITFALLS)
def test_pitfall(fields: Body, limit: int | None, expected: Body) -> None:
    out = translate(limit=limit, **fields)
    assert {key: out.get(key, ABSENT) for key in expected} == expected
    json.dumps(out)


def test_p28_claude_code_user_id_is_hashed_to_64_safe_characters() -> None:
    user_field = translate(metadata={"user_id": CC_USER_ID, "other": 1})["user"]
    assert len(user_field) <= 64
    assert user_field.replace("-", "").replace("_", "").isalnum()


def test_basic_shape() -> None:
    assert translate(system="Be brief.", temperature=0.2, top_p=0.9, top_k=5) == {
        "model": "provider-model",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "max_tokens": 1024,
        "temperature": 0.2,
        "top_p": 0.9,
        "stream": False,
    }


def test_streaming_asks_for_usage() -> None:
    out = translate(stream=True)
    assert (out["stream"], out["stream_options"]) == (True, {"include_usage": True})


def test_mid_conversation_system_message_keeps_its_position() -> None:
    messages = [user("a"), {"role": "system", "content": "Now be terse."}, assistant(text("b"))]
    assert [m["role"] for m in translate(messages=messages)["messages"]] == ["user", "system", "assistant"]


def test_parallel_tool_uses_share_one_message_and_results_precede_user_text() -> None:
    messages = [
        user("go"),
        assistant(text("two at once"), tool_use("toolu_a", path="x"), tool_use("toolu_b", "Read")),
        user(tool_result("toolu_a", "A"), tool_result("toolu_b", [text("B")]), text("and then?")),
    ]
    assert translate(messages=messages)["messages"][1:] == [
        {
            "role": "assistant",
            "content": "two at once",
            "tool_calls": [call("toolu_a", arguments='{"path": "x"}'), call("toolu_b", "Read")],
        },
        {"role": "tool", "tool_call_id": "toolu_a", "content": "A"},
        {"role": "tool", "tool_call_id": "toolu_b", "content": parts("B")},
        {"role": "user", "content": parts("and then?")},
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("exit 1", "Error: exit 1"),
        (None, "Error"),
        ([text("exit 1")], parts("Error:", "exit 1")),
    ],
)
def test_tool_result_errors_are_marked(content: Any, expected: Any) -> None:
    messages = [user("go"), assistant(tool_use("t")), user(tool_result("t", content, is_error=True))]
    assert translate(messages=messages)["messages"][-1]["content"] == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}, PNG_URL),
        (
            {"type": "url", "url": "https://x.test/a.png"},
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        ),
        (
            {"type": "file", "file_id": "file_1"},
            text("[image file_1 from the Anthropic Files API; its content is not available to this model]"),
        ),
    ],
)
def test_images(source: Body, expected: Body) -> None:
    out = translate(messages=[user({"type": "image", "source": source})])
    assert out["messages"][0]["content"] == [expected]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            {"source": {"type": "text", "media_type": "text/plain", "data": "body"}, "title": "Notes"},
            parts("[document: Notes]", "body"),
        ),
        ({"source": {"type": "content", "content": [text("c1"), image()]}}, [*parts("c1"), PNG_URL]),
        (
            {"source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}, "title": "a.pdf"},
            [
                text("[document: a.pdf]"),
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}},
            ],
        ),
        (
            {"source": {"type": "url", "url": "https://x.test/a.pdf"}},
            parts("[PDF document at https://x.test/a.pdf; its content was not sent to this model]"),
        ),
    ],
)
def test_documents(block: Body, expected: list[Body]) -> None:
    out = translate(messages=[user({"type": "document", **block})])
    assert out["messages"][0]["content"] == expected


def test_search_result_and_server_tool_history_degrade_to_notes() -> None:
    search = {"type": "search_result", "source": "https://x.test", "title": "X", "content": [text("fact")]}
    result = [{"type": "web_search_result", "url": "https://x.test", "title": "X", "encrypted_content": "Eq..."}]
    blocks = [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": result},
        {"type": "future_search_tool_result", "tool_use_id": "srvtoolu_2", "content": {"x": 1}},
        text("done"),
    ]
    out = translate(messages=[user(search), assistant(*blocks)])["messages"]
    assert out[0]["content"] == parts("[search result: X (https://x.test)]\nfact")
    assert out[1]["content"] == "\n\n".join(
        [
            '[server tool call web_search (srvtoolu_1) with input {"query":"q"}]',
            '[web_search_tool_result for srvtoolu_1: [{"type":"web_search_result","url":"https://x.test","title":"X"}]]',
            '[future_search_tool_result for srvtoolu_2: {"x":1}]',
            "done",
        ]
    )


def test_tools_map_to_functions() -> None:
    tools = [{**TOOL, "strict": True, "cache_control": {"type": "ephemeral"}, "defer_loading": True}, {"name": "Bare"}]
    assert translate(tools=tools)["tools"] == [
        {"type": "function", "function": {**FUNCTION["function"], "strict": True}},
        {"type": "function", "function": {"name": "Bare", "parameters": {"type": "object", "properties": {}}}},
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "any"}, "required"),
        ({"type": "tool", "name": "Bash"}, {"type": "function", "function": {"name": "Bash"}}),
        ({"type": "none"}, "none"),
    ],
)
def test_tool_choice(choice: Body, expected: Any) -> None:
    out = translate(tools=[TOOL], tool_choice=choice)
    assert out["tool_choice"] == expected
    assert "parallel_tool_calls" not in out


def test_tool_choice_without_tools_field_is_not_sent() -> None:
    assert "tool_choice" not in translate(tool_choice={"type": "any"})


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "web_search_20250305", "name": "web_search"},
        {"type": "bash_20250124", "name": "bash"},
        {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
    ],
)
def test_server_tools_are_rejected_by_name(tool: Body) -> None:
    message = rejected(tools=[TOOL, tool])
    assert message == f"tools.1: server tool {tool['name']} ({tool['type']}) is not available for model claude-alias"


@pytest.mark.parametrize(
    ("thinking", "output_config", "effort"),
    [
        ({"type": "enabled", "budget_tokens": 1024}, None, "low"),
        ({"type": "enabled", "budget_tokens": 4096}, None, "medium"),
        ({"type": "enabled", "budget_tokens": 16384}, None, "high"),
        ({"type": "adaptive"}, None, "medium"),
        ({"type": "disabled"}, None, ABSENT),
        ({"type": "adaptive"}, {"effort": "low"}, "low"),
        ({"type": "enabled", "budget_tokens": 1024}, {"effort": "xhigh"}, "high"),
        (None, {"effort": "max"}, "high"),
    ],
)
def test_reasoning_effort(thinking: Body | None, output_config: Body | None, effort: str) -> None:
    fields: Body = {"thinking": thinking, "output_config": output_config}
    out = translate(**{key: value for key, value in fields.items() if value is not None})
    assert out.get("reasoning_effort", ABSENT) == effort


def test_json_schema_output_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    out = translate(output_config={"format": {"type": "json_schema", "schema": schema}})
    assert out["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": True},
    }


@pytest.mark.parametrize("field", ["temperature", "top_p", "top_k"])
def test_2026_10_21_rejects_sampling_parameters(field: str) -> None:
    assert rejected("2026-10-21", **{field: 1.0}) == f"{field}: Extra inputs are not permitted"


def test_2026_10_21_rejects_document_in_assistant_message() -> None:
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "d"}}
    messages = [user("a"), assistant(document)]
    assert rejected("2026-10-21", messages=messages).startswith("messages.1.content.0: document blocks")
    assert translate(messages=messages)["messages"][1] == {"role": "assistant", "content": "d"}


def test_2026_10_21_rejects_citations_on_user_text() -> None:
    cited = text("quote", citations=[{"type": "char_location", "cited_text": "q"}])
    assert rejected("2026-10-21", messages=[user(cited)]).startswith("messages.0.content.0.citations:")


@pytest.mark.parametrize(
    "field",
    ["cache_control", "context_management", "service_tier", "container", "inference_geo", "speed", "diagnostics"],
)
def test_harmless_anthropic_fields_are_dropped(field: str) -> None:
    fields: Body = {field: {"x": 1}}
    assert field not in translate(**fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"x_future": 1}, "x_future: not supported when this model is served by an OpenAI-compatible provider"),
        (
            {"output_config": {"task_budget": 1}},
            "output_config.task_budget: not supported when this model is served by an OpenAI-compatible provider",
        ),
        (
            {"messages": [user("a"), assistant({"type": "hologram"})]},
            "messages.1.content.0.type: unknown content block type 'hologram'" + CANNOT,
        ),
        (
            {"messages": [user(tool_result("t", [{"type": "hologram"}]))]},
            "messages.0.content.0.content.0.type: unknown content block type 'hologram'" + CANNOT,
        ),
        (
            {"messages": [user({"type": "image", "source": {"type": "hologram"}})]},
            "messages.0.content.0.source.type: unknown image source type 'hologram'" + CANNOT,
        ),
        (
            {"messages": [user(tool_use("t"))]},
            "messages.0.content.0: this block type is only allowed in assistant messages",
        ),
        (
            {"messages": [{"role": "tool", "content": "x"}]},
            "messages.0.role: Input should be 'user', 'assistant' or 'system'",
        ),
        (
            {"thinking": {"type": "sometimes"}},
            "thinking.type: Input should be 'enabled', 'adaptive' or 'disabled', not 'sometimes'",
        ),
        (
            {"tools": [TOOL], "tool_choice": {"type": "maybe"}},
            "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none', not 'maybe'",
        ),
        ({"max_tokens": None}, "max_tokens: Field required"),
    ],
)
def test_unknown_or_invalid_input_is_rejected_with_its_path(fields: Body, message: str) -> None:
    assert rejected(**fields) == message
