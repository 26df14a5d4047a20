"""``switchboard connect``'s MCP side, against the real notes server over stdio: tools, calls, result mapping."""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp.types import AudioContent, CallToolResult, EmbeddedResource, TextContent, TextResourceContents

from fakes.mcp_notes_server import PIXEL_PNG, server_command
from switchboard.cli.connect.errors import McpServerError
from switchboard.cli.connect.mcp_bridge import McpBridge, open_bridge
from switchboard.cli.connect.tool_results import to_tool_result


@asynccontextmanager
async def notes_bridge(*args: str, tool_timeout: float = 10.0) -> AsyncIterator[McpBridge]:
    async with open_bridge(server_command(*args), tool_timeout=tool_timeout) as bridge:
        yield bridge


async def test_tools_are_listed_with_their_schemas() -> None:
    async with notes_bridge() as bridge:
        tools = {tool.name: tool for tool in await bridge.list_tools()}
        assert bridge.server_name == "notes"
    assert set(tools) == {"read_note", "add", "slow_echo", "pixel", "whoami", "env_var"}
    add = tools["add"]
    assert add.description == "Add two integers."
    assert add.input_schema["type"] == "object"
    assert add.input_schema["required"] == ["a", "b"]
    assert add.input_schema["properties"] == {
        "a": {"title": "A", "type": "integer"},
        "b": {"title": "B", "type": "integer"},
    }
    assert tools["slow_echo"].input_schema["required"] == ["text", "seconds"]
    assert "required" not in tools["pixel"].input_schema
    # On the wire the schema is camelCase, as in MCP's own tools/list.
    assert "inputSchema" in json.loads(add.model_dump_json(by_alias=True))


async def test_text_int_and_error_results() -> None:
    async with notes_bridge() as bridge:
        note = await bridge.call("read_note", {"name": "groceries"})
        total = await bridge.call("add", {"a": 2, "b": 40})
        missing = await bridge.call("read_note", {"name": "nope"})
        invalid = await bridge.call("add", {"a": "x"})
    assert note.success and note.content == [{"type": "text", "text": "note groceries: milk, eggs"}]
    assert total.success and total.content == [{"type": "text", "text": "42"}]
    assert not missing.success and missing.content is None
    assert missing.error == "Error executing tool read_note: no note named 'nope'"
    assert not invalid.success and invalid.error is not None and "validation error" in invalid.error


async def test_image_result_becomes_a_base64_image_block() -> None:
    async with notes_bridge() as bridge:
        result = await bridge.call("pixel", {})
    assert result.success
    assert result.content == [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PIXEL_PNG).decode()},
        }
    ]


async def test_unknown_tool_is_an_error_result() -> None:
    async with notes_bridge() as bridge:
        result = await bridge.call("no_such_tool", {})
    assert not result.success
    assert result.error is not None and "no_such_tool" in result.error


async def test_a_call_past_the_tool_timeout_is_an_error_and_the_server_stays_usable() -> None:
    async with notes_bridge(tool_timeout=0.5) as bridge:
        slow = await bridge.call("slow_echo", {"text": "late", "seconds": 5})
        after = await bridge.call("slow_echo", {"text": "quick", "seconds": 0})
    assert not slow.success and slow.error == "the tool 'slow_echo' did not answer within 0.5 s"
    assert after.success and after.content == [{"type": "text", "text": "quick"}]


async def test_a_call_deadline_shortens_the_timeout() -> None:
    async with notes_bridge(tool_timeout=30) as bridge:
        result = await bridge.call("slow_echo", {"text": "late", "seconds": 5}, timeout=0.3)
    assert result.error == "the tool 'slow_echo' did not answer within 0.3 s"


async def test_notes_dir_adds_notes(tmp_path: Path) -> None:
    (tmp_path / "ideas.txt").write_text("more tests\n")
    async with notes_bridge("--notes-dir", str(tmp_path)) as bridge:
        result = await bridge.call("read_note", {"name": "ideas"})
    assert result.content == [{"type": "text", "text": "note ideas: more tests"}]


async def test_the_server_exiting_is_noticed() -> None:
    async with notes_bridge() as bridge:
        pid_result = await bridge.call("whoami", {})
        assert isinstance(pid_result.content, list)
        os.kill(int(str(pid_result.content[0]["text"])), signal.SIGKILL)
        await bridge.wait_exited()
        with pytest.raises(McpServerError, match="process ended"):
            await bridge.call("add", {"a": 1, "b": 1})


async def test_a_command_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(McpServerError, match="could not start the MCP server"):
        async with open_bridge([str(tmp_path / "missing-server")], tool_timeout=5):
            pass


async def test_a_command_that_is_not_an_mcp_server_is_a_clear_error() -> None:
    with pytest.raises(McpServerError, match="failed its handshake"):
        async with open_bridge([sys.executable, "-c", "pass"], tool_timeout=5):
            pass


def test_other_content_becomes_json_text_and_structured_content_is_a_fallback() -> None:
    resource = EmbeddedResource(resource=TextResourceContents(uri="file:///a.txt", text="hi", mime_type="text/plain"))
    audio = AudioContent(data="AAAA", mime_type="audio/wav")
    mixed = to_tool_result(CallToolResult(content=[TextContent(text="a"), resource, audio]))
    assert isinstance(mixed.content, list)
    assert mixed.content[0] == {"type": "text", "text": "a"}
    assert json.loads(str(mixed.content[1]["text"])) == {
        "type": "resource",
        "resource": {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "hi"},
    }
    assert json.loads(str(mixed.content[2]["text"])) == {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"}
    structured = to_tool_result(CallToolResult(content=[], structured_content={"n": 1}))
    assert structured.content == [{"type": "text", "text": '{"n": 1}'}]
    assert to_tool_result(CallToolResult(content=[TextContent(text="x")], structured_content={"n": 1})).content == [
        {"type": "text", "text": "x"}
    ]
    silent_error = to_tool_result(CallToolResult(content=[], is_error=True))
    assert not silent_error.success and silent_error.error


async def test_env_adds_variables_to_the_servers_minimal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_ONLY_SECRET", "not for the server")
    async with open_bridge(server_command(), tool_timeout=10, env={"GITHUB_TOKEN": "ghp_x"}) as bridge:
        given = await bridge.call("env_var", {"name": "GITHUB_TOKEN"})
        withheld = await bridge.call("env_var", {"name": "CONNECTOR_ONLY_SECRET"})
        path = await bridge.call("env_var", {"name": "PATH"})
    assert given.content == [{"type": "text", "text": "ghp_x"}]
    assert withheld.content == [{"type": "text", "text": "unset"}]
    assert path.content != [{"type": "text", "text": "unset"}], "the SDK's defaults stay"
