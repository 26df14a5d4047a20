"""``POST /poll`` and ``POST /submit``: the HTTP long-polling connector, for networks without WebSockets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from nats.errors import Error as NatsError

from switchboard.common.errors import NotFoundError, OverloadedError
from switchboard.common.mcp_protocol import PollRequest, PollResponse, SubmitRequest
from switchboard.tool_broker.request_body import parsed_body
from switchboard.tool_broker.routes import MCP_PREFIX
from switchboard.tool_broker.state import BrokerState, broker_state, caller_of, require_own

__all__ = ["router"]

router = APIRouter()


@router.post(MCP_PREFIX + "/poll")
async def poll(request: Request) -> dict[str, Any]:
    state = broker_state(request)
    caller = await caller_of(request)
    body = await parsed_body(request, PollRequest, state.settings.max_message_bytes)
    require_own(caller, body.user_id)
    servers = await _polling_servers(state, body)
    pollers = {server: await state.presence.polled(body.user_id, server) for server in servers}
    try:
        calls = await state.pollers.poll(body.user_id, pollers, body.wait, body.max_calls)
    except NatsError:
        raise OverloadedError("The tool queue is unavailable right now; poll again.") from None
    return PollResponse(pending_calls=calls).model_dump(mode="json", exclude_none=True)


@router.post(MCP_PREFIX + "/submit")
async def submit(request: Request) -> dict[str, str]:
    state = broker_state(request)
    caller = await caller_of(request)
    body = await parsed_body(request, SubmitRequest, state.settings.max_message_bytes)
    pending = await state.queue.settle(body.call_id, caller.user_id)
    if pending is None:
        # Unknown, already answered, past its deadline or another user's: the same answer, and no effect.
        raise NotFoundError(f"No tool call {body.call_id!r} is waiting for a result.")
    await state.completions.result(pending.call, body.result, pending.claimed_by)
    return {"status": "accepted"}


async def _polling_servers(state: BrokerState, body: PollRequest) -> list[str]:
    if body.server_id is not None:
        record = await state.registrations.get(body.user_id, body.server_id)
        if record is None or record.method != "polling":
            raise NotFoundError(f"No polling MCP server {body.server_id!r} is registered; POST /api/mcp/register.")
        return [body.server_id]
    records = await state.registrations.of_user(body.user_id)
    servers = [record.server_id for record in records if record.method == "polling"]
    if not servers:
        raise NotFoundError("No polling MCP server is registered for this user; POST /api/mcp/register.")
    return servers
