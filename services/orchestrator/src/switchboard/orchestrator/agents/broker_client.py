"""The orchestrator's side of the tool-broker contract: list a user's MCP tools and run one call, over NATS.

Failures never raise: a missing broker means no MCP tools (listing) or an ``is_error`` result the model can read
(calls), so the request itself still gets an answer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import nats.errors
from nats.aio.client import Client
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from switchboard.common.events import ToolCallRecord
from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import ExecuteToolCall, ListTools, McpTool, ToolCallCompleted, ToolsListed
from switchboard.common.tracing import span, trace_headers
from switchboard.orchestrator.metrics import orchestrator_metrics

__all__ = [
    "LIST_TOOLS_TIMEOUT_SECONDS",
    "REPLY_GRACE_SECONDS",
    "PendingCall",
    "ToolBroker",
    "ToolOutcome",
    "tool_result",
]

logger = logging.getLogger(__name__)

LIST_TOOLS_TIMEOUT_SECONDS = 1.0
LIST_TOOLS_ATTEMPTS = 2
REPLY_GRACE_SECONDS = 2.0
"""Waited beyond a call's own timeout: the broker answers a late call itself, and its answer says more."""


@dataclass(frozen=True, slots=True)
class PendingCall:
    """One MCP ``tool_use`` of the model, resolved to its connector."""

    call_id: str
    """The ``tool_use`` id, which the ``tool_result`` must quote."""
    server_id: str
    tool_name: str
    input: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    result: dict[str, Any]
    """The ``tool_result`` block for the model."""
    record: ToolCallRecord


class ToolBroker:
    def __init__(self, connection: Client, subjects: Subjects) -> None:
        self._connection = connection
        self._subjects = subjects

    async def list_tools(self, request_id: str, user_id: str) -> list[McpTool]:
        """The user's live MCP tools; none (with a warning) when no broker answers in time.

        A listing that times out is asked once more: the broker that took it may have died with it, and the
        queue group hands the second to a live replica.
        """
        payload = ListTools(user_id=user_id).model_dump_json().encode()
        for attempt in range(1, LIST_TOOLS_ATTEMPTS + 1):
            try:
                reply = await self._connection.request(self._subjects.list_tools, payload, LIST_TOOLS_TIMEOUT_SECONDS)
                return ToolsListed.model_validate_json(reply.data).tools
            except nats.errors.TimeoutError:
                if attempt < LIST_TOOLS_ATTEMPTS:
                    continue
                failure = "TimeoutError"
            except (nats.errors.Error, ValidationError) as exc:
                failure = type(exc).__name__
            logger.warning("request %s: no MCP tools, listing them failed: %s", request_id, failure)
        return []

    async def call(self, request_id: str, user_id: str, call: PendingCall, timeout: float) -> ToolOutcome:
        command = ExecuteToolCall(
            request_id=request_id,
            user_id=user_id,
            call_id=call.call_id,
            server_id=call.server_id,
            tool_name=call.tool_name,
            input=call.input,
            timeout_s=timeout,
        )
        started = time.monotonic()
        completed = await self._request(command, timeout)
        seconds = time.monotonic() - started
        orchestrator_metrics().tool_call(seconds, is_error=completed.is_error)
        record = ToolCallRecord(
            server_id=call.server_id, name=call.tool_name, duration_ms=seconds * 1000, is_error=completed.is_error
        )
        return ToolOutcome(tool_result(call.call_id, completed), record)

    async def _request(self, command: ExecuteToolCall, timeout: float) -> ToolCallCompleted:
        subject = self._subjects.execute_tool_call(command.user_id)
        try:
            # Named as OpenTelemetry's GenAI conventions name tool spans.
            name, attributes = f"execute_tool {command.tool_name}", {"gen_ai.tool.name": command.tool_name}
            with span(name, kind=SpanKind.CLIENT, attributes=attributes):
                reply = await self._connection.request(
                    subject, command.model_dump_json().encode(), timeout + REPLY_GRACE_SECONDS, headers=trace_headers()
                )
            return ToolCallCompleted.model_validate_json(reply.data)
        except nats.errors.NoRespondersError:
            return _failed(command, "no tool-broker is running")
        except nats.errors.TimeoutError:
            return _failed(command, f"the tool {command.tool_name} did not answer within {timeout:g} s")
        except ValidationError:
            logger.warning("request %s: unreadable ToolCallCompleted for %s", command.request_id, command.call_id)
            return _failed(command, "the tool-broker sent an unreadable answer")
        except nats.errors.Error as exc:
            return _failed(command, f"the tool call could not be sent ({type(exc).__name__})")


def _failed(command: ExecuteToolCall, message: str) -> ToolCallCompleted:
    return ToolCallCompleted(
        request_id=command.request_id,
        user_id=command.user_id,
        call_id=command.call_id,
        is_error=True,
        content=[{"type": "text", "text": message}],
    )


def tool_result(call_id: str, completed: ToolCallCompleted) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    if completed.content:  # an empty content list is better left out than sent
        result["content"] = list(completed.content)
    if completed.is_error:
        result["is_error"] = True
    return result
