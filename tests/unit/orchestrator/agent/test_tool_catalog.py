"""MCP tools offered to the model: namespaced, valid names, filtered, sorted, and each name leads back home."""

from __future__ import annotations

import re

from switchboard.common.tool_events import McpTool
from switchboard.orchestrator.agents.tool_catalog import McpToolRef, ToolCatalog, client_tool_names, namespaced_name

VALID = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


def tool(server_id: str, name: str, **fields: object) -> McpTool:
    return McpTool.model_validate({"server_id": server_id, "name": name, **fields})


def test_names_are_namespaced_and_sanitised() -> None:
    assert namespaced_name("fs", "read_text_file") == "mcp__fs__read_text_file"
    assert namespaced_name("my server", "files/read.v2") == "mcp__my_server__files_read_v2"
    assert namespaced_name("notes-poll", "add") == "mcp__notes-poll__add"


def test_over_long_names_are_cut_with_a_digest_that_keeps_them_apart() -> None:
    first, second = namespaced_name("s", "x" * 200 + "a"), namespaced_name("s", "x" * 200 + "b")
    assert VALID.match(first) and VALID.match(second)
    assert len(first) == 128 and first != second
    assert first == namespaced_name("s", "x" * 200 + "a"), "stable, so prompt caches stay warm"


def test_definitions_are_sorted_and_map_back_to_server_and_tool() -> None:
    catalog = ToolCatalog(
        [
            tool("notes", "read.note", description="Read a note", input_schema={"properties": {"name": {}}}),
            tool("fs", "read", input_schema={"type": "object", "required": []}),
        ],
        ["*"],
    )
    assert catalog.definitions == [
        {"name": "mcp__fs__read", "input_schema": {"type": "object", "required": []}},
        {
            "name": "mcp__notes__read_note",
            "input_schema": {"properties": {"name": {}}, "type": "object"},
            "description": "Read a note",
        },
    ]
    assert catalog.resolve("mcp__notes__read_note") == McpToolRef("notes", "read.note")
    assert catalog.resolve("read") is None and catalog.resolve(None) is None


def test_names_that_collide_after_sanitising_both_survive() -> None:
    catalog = ToolCatalog([tool("s", "a.b"), tool("s", "a_b")], ["*"])
    names = [definition["name"] for definition in catalog.definitions]
    assert len(set(names)) == 2 and all(VALID.match(name) for name in names)
    assert {catalog.resolve(name) for name in names} == {McpToolRef("s", "a.b"), McpToolRef("s", "a_b")}


def test_the_agents_patterns_filter_the_namespaced_names() -> None:
    tools = [tool("fs", "read"), tool("fs", "write"), tool("notes", "add")]
    catalog = ToolCatalog(tools, ["mcp__fs__r*", "mcp__notes__*"])
    assert [definition["name"] for definition in catalog.definitions] == ["mcp__fs__read", "mcp__notes__add"]
    assert ToolCatalog(tools, []).definitions == []


def test_a_client_tool_of_the_same_name_wins() -> None:
    payload = {"tools": [{"name": "mcp__fs__read", "input_schema": {}}, {"type": "bash_20250124", "name": "bash"}]}
    reserved = client_tool_names(payload)
    assert reserved == {"mcp__fs__read", "bash"}
    catalog = ToolCatalog([tool("fs", "read"), tool("fs", "list")], ["*"], reserved)
    assert [definition["name"] for definition in catalog.definitions] == ["mcp__fs__list"]
    assert catalog.resolve("mcp__fs__read") is None, "a tool_use of that name is the client's"


def test_only_mcp_tool_use_blocks_are_hidden() -> None:
    catalog = ToolCatalog([tool("fs", "read")], ["*"])
    assert catalog.hides({"type": "tool_use", "id": "t", "name": "mcp__fs__read", "input": {}})
    assert not catalog.hides({"type": "tool_use", "id": "t", "name": "get_weather", "input": {}})
    assert not catalog.hides({"type": "text", "text": "mcp__fs__read"})
