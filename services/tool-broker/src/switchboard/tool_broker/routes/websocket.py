"""``WS /api/mcp/ws/{user_id}``: a connector's WebSocket, from the upgrade until it closes.

The upgrade is refused before it is accepted (an HTTP status and an Anthropic error body) for a missing or
invalid credential (401), another user's id (403), too many connections of the user (429) or an unreachable
key authority (529). When a connection ends, the calls it still had are redelivered or answered.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket

from switchboard.common.errors import RateLimitedError, SwitchboardError
from switchboard.common.ids import new_id
from switchboard.tool_broker.auth import Caller
from switchboard.tool_broker.connections import Connection
from switchboard.tool_broker.http_errors import error_response
from switchboard.tool_broker.routes import MCP_PREFIX
from switchboard.tool_broker.state import BrokerState, broker_state, require_own
from switchboard.tool_broker.token_bucket import TokenBucket
from switchboard.tool_broker.ws_session import Session

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter()

_INTERNAL_ERROR_CLOSE_CODE = 1011


@router.websocket(MCP_PREFIX + "/ws/{user_id}")
async def connector_socket(websocket: WebSocket, user_id: str) -> None:
    state = broker_state(websocket)
    try:
        caller = await _admitted(state, websocket, user_id)
    except SwitchboardError as refused:
        await websocket.send_denial_response(error_response(websocket, refused))
        return
    settings = state.settings
    connection = Connection(
        connection_id=new_id("mcpc"),
        user_id=user_id,
        credential_digest=caller.credential_digest,
        socket=websocket,
        bucket=TokenBucket(settings.message_rate, settings.message_burst),
    )
    # Counted before the first await after the limit check, so concurrent upgrades cannot all slip past it.
    state.registry.add(connection)
    try:
        await websocket.accept()
        await Session(connection, state).run(websocket)
    except Exception:
        logger.exception("connection %s failed", connection.connection_id)
        await connection.close(_INTERNAL_ERROR_CLOSE_CODE, "internal error")
    finally:
        await _closed(state, connection)


async def _admitted(state: BrokerState, websocket: WebSocket, user_id: str) -> Caller:
    caller = await state.auth.caller(websocket.headers)
    require_own(caller, user_id)
    limit = state.settings.max_connections_per_user
    if state.registry.count_of(user_id) >= limit:
        raise RateLimitedError(f"At most {limit} connector connections per user on one broker; close one first.")
    return caller


async def _closed(state: BrokerState, connection: Connection) -> None:
    orphans = await state.registry.remove(connection)
    if connection.server_id is not None:
        await state.presence.disconnected(connection)
    for call in orphans:
        await state.dispatcher.redeliver(call, connection.connection_id)
