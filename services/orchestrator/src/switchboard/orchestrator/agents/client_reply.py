"""The client's side of an agent loop: a stream rewritten as it arrives, or one ``Message`` at the end.

Both shapes answer the same calls from the loop, so the loop never asks which kind of client it serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from switchboard.common.errors import status_for_error_type
from switchboard.orchestrator.agents.message_assembler import assemble_message
from switchboard.orchestrator.agents.stream_rewriter import StreamRewriter
from switchboard.orchestrator.agents.tool_catalog import ToolCatalog
from switchboard.orchestrator.response_writer import ResponseWriter
from switchboard.orchestrator.upstream_errors import dump_json

__all__ = ["ClientReply", "MessageReply", "StreamingReply"]


class ClientReply(Protocol):
    async def started(self, headers: Mapping[str, str]) -> None:
        """An iteration's stream began (only the first one matters)."""

    def event(self, kind: str, payload: Mapping[str, Any] | None, raw: bytes) -> None:
        """One upstream event, as it arrives."""

    async def flush(self) -> None:
        """Send what the events of one upstream chunk produced."""

    def iteration_done(self, message: Mapping[str, Any], blocks: list[dict[str, Any]]) -> None:
        """An iteration ended normally: its ``message_start`` message and its content blocks."""

    async def finish(
        self, stop_reason: str | None, stop_sequence: str | None, usage: Mapping[str, int], notice: str | None = None
    ) -> None:
        """The answer is complete; ``notice`` is a last text block from Switchboard itself."""

    async def stream_error(self, payload: Mapping[str, Any]) -> None:
        """The provider sent an ``error`` event inside its stream; the loop ends."""


class StreamingReply:
    def __init__(self, writer: ResponseWriter, catalog: ToolCatalog) -> None:
        self._writer = writer
        self._rewriter = StreamRewriter(catalog.hides)
        self._started = False
        self._pending: list[bytes] = []

    async def started(self, headers: Mapping[str, str]) -> None:
        if not self._started:
            self._started = True
            await self._writer.start_stream(headers)

    def event(self, kind: str, payload: Mapping[str, Any] | None, raw: bytes) -> None:
        if data := self._rewriter.rewrite(kind, payload, raw):
            self._pending.append(data)

    async def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            await self._writer.stream_bytes(data)

    def iteration_done(self, message: Mapping[str, Any], blocks: list[dict[str, Any]]) -> None:
        self._rewriter.next_iteration()

    async def finish(
        self, stop_reason: str | None, stop_sequence: str | None, usage: Mapping[str, int], notice: str | None = None
    ) -> None:
        await self._writer.stream_bytes(self._rewriter.closing(stop_reason, stop_sequence, usage, notice))
        await self._writer.finish_stream()

    async def stream_error(self, payload: Mapping[str, Any]) -> None:
        await self._writer.finish_stream()  # the error event itself already went out, as received


class MessageReply:
    def __init__(self, writer: ResponseWriter, catalog: ToolCatalog) -> None:
        self._writer = writer
        self._catalog = catalog
        self._first: Mapping[str, Any] | None = None
        self._content: list[dict[str, Any]] = []

    async def started(self, headers: Mapping[str, str]) -> None:
        return None

    def event(self, kind: str, payload: Mapping[str, Any] | None, raw: bytes) -> None:
        return None

    async def flush(self) -> None:
        return None

    def iteration_done(self, message: Mapping[str, Any], blocks: list[dict[str, Any]]) -> None:
        if self._first is None:
            self._first = message
        self._content += [block for block in blocks if not self._catalog.hides(block)]

    async def finish(
        self, stop_reason: str | None, stop_sequence: str | None, usage: Mapping[str, int], notice: str | None = None
    ) -> None:
        content = [*self._content, {"type": "text", "text": notice}] if notice else self._content
        message = assemble_message(self._first or {}, content, stop_reason, stop_sequence, usage)
        await self._writer.body(200, {}, dump_json(message))

    async def stream_error(self, payload: Mapping[str, Any]) -> None:
        error = payload.get("error")
        error_type = error.get("type") if isinstance(error, dict) else None
        status = status_for_error_type(error_type) if isinstance(error_type, str) else 500
        await self._writer.upstream_error(status, {}, dump_json(payload).encode())
