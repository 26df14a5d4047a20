"""What the routes need, built once in the lifespan and kept in ``app.state.broker``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from switchboard.common.errors import PermissionDeniedError
from switchboard.tool_broker.auth import Authenticator, Caller
from switchboard.tool_broker.completion import Completions
from switchboard.tool_broker.connections import ConnectionRegistry
from switchboard.tool_broker.dispatcher import Dispatcher
from switchboard.tool_broker.poll_queue import PollQueue
from switchboard.tool_broker.pollers import Pollers
from switchboard.tool_broker.presence import Presence
from switchboard.tool_broker.registrations import Registrations
from switchboard.tool_broker.settings import ToolBrokerSettings

__all__ = ["BrokerState", "broker_state", "caller_of", "require_own"]


@dataclass(frozen=True, slots=True)
class BrokerState:
    settings: ToolBrokerSettings
    instance: str
    auth: Authenticator
    registry: ConnectionRegistry
    registrations: Registrations
    presence: Presence
    dispatcher: Dispatcher
    queue: PollQueue
    pollers: Pollers
    completions: Completions


def broker_state(connection: HTTPConnection) -> BrokerState:
    state: BrokerState = connection.app.state.broker
    return state


async def caller_of(connection: HTTPConnection) -> Caller:
    return await broker_state(connection).auth.caller(connection.headers)


def require_own(caller: Caller, user_id: str) -> None:
    """A connector acts only for its own user; administrators too (a connector is not an admin tool)."""
    if user_id != caller.user_id:
        raise PermissionDeniedError("A connector may act only for its own user.")
