"""The local MCP server: start it over stdio with the ``mcp`` SDK, list its tools, run calls on it.

The server is started once and kept for the connector's whole life, across reconnects to the broker. When its
process ends, :meth:`McpBridge.wait_exited` returns, so the connector can stop instead of serving dead tools.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.client.stdio import get_default_environment
from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT, Implementation, Tool
from pydantic import ValidationError

from switchboard.cli.connect.errors import McpServerError
from switchboard.cli.connect.stdio_watch import watched_stdio
from switchboard.cli.connect.tool_results import to_tool_result
from switchboard.common.mcp_protocol import ToolDefinition, ToolResult

__all__ = ["McpBridge", "open_bridge"]

log = logging.getLogger(__name__)
_MAX_TOOL_PAGES = 100


def _definition(tool: Tool) -> ToolDefinition | None:
    try:
        return ToolDefinition(name=tool.name, description=tool.description or "", inputSchema=tool.input_schema)
    except ValidationError:
        log.warning("skipping tool %r: its name is not usable (1 to 128 characters)", tool.name[:200])
        return None


class McpBridge:
    """A started MCP server: its name, its tools, and calls run on it."""

    def __init__(self, client: Client, tool_timeout: float, ended: asyncio.Event) -> None:
        self._client = client
        self._tool_timeout = tool_timeout
        self._ended = ended

    @property
    def server_name(self) -> str | None:
        """The name the server gave in its handshake, if any."""
        info = self._client.server_info
        return info.name if info is not None else None

    async def list_tools(self) -> list[ToolDefinition]:
        tools: list[ToolDefinition] = []
        cursor: str | None = None
        for _ in range(_MAX_TOOL_PAGES):
            try:
                page = await self._client.list_tools(cursor=cursor)
            except MCPError as exc:
                raise McpServerError(f"the MCP server did not list its tools: {exc.message}") from None
            tools += [definition for tool in page.tools if (definition := _definition(tool)) is not None]
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def call(self, tool: str, arguments: dict[str, Any], timeout: float | None = None) -> ToolResult:
        """Run one tool call; every failure of the tool becomes an error result, not an exception.

        Raises :class:`McpServerError` when the server's process has gone: no later call can succeed either.
        """
        seconds = self._tool_timeout if timeout is None else min(timeout, self._tool_timeout)
        try:
            result = await self._client.call_tool(tool, arguments, read_timeout_seconds=seconds)
        except MCPError as exc:
            if exc.code == CONNECTION_CLOSED:
                raise McpServerError("the MCP server's process ended") from None
            if exc.code == REQUEST_TIMEOUT:
                return ToolResult(
                    success=False, error=f"the tool {tool!r} did not answer within {round(seconds, 1):g} s"
                )
            return ToolResult(success=False, error=f"MCP error {exc.code}: {exc.message}")
        except ValidationError as exc:
            return ToolResult(
                success=False, error=f"the MCP server sent a malformed result: {exc.error_count()} errors"
            )
        return to_tool_result(result)

    async def wait_exited(self) -> None:
        """Return once the server's process has ended (its stdout closed)."""
        await self._ended.wait()


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


async def _start(stack: AsyncExitStack, client: Client, program: str) -> None:
    try:
        await stack.enter_async_context(client)
    except OSError as exc:
        raise McpServerError(f"could not start the MCP server {program!r}: {exc.strerror or exc}") from None
    except (MCPError, ExceptionGroup) as exc:
        reason = _leaves(exc)[0]
        raise McpServerError(f"the MCP server {program!r} failed its handshake: {reason}") from None


@asynccontextmanager
async def open_bridge(
    command: Sequence[str], *, tool_timeout: float, env: Mapping[str, str] | None = None
) -> AsyncIterator[McpBridge]:
    """Start ``command`` (executable and arguments) as an MCP server over stdio and shake hands with it.

    ``env`` adds to the SDK's minimal default environment (it does not replace it).
    """
    server_env = {**get_default_environment(), **env} if env else None
    params = StdioServerParameters(command=command[0], args=list(command[1:]), env=server_env)
    ended = asyncio.Event()
    client = Client(watched_stdio(params, ended), client_info=Implementation(name="switchboard-connect", version="1"))
    try:
        async with AsyncExitStack() as stack:
            await _start(stack, client, command[0])
            yield McpBridge(client, tool_timeout, ended)
    except BaseExceptionGroup as group:
        # The SDK's task groups wrap whatever ends the block; callers want that exception itself.
        leaves = _leaves(group)
        if len(leaves) == 1:
            raise leaves[0] from None
        raise
