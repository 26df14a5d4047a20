"""Composition root of the tool-broker: the FastAPI app and, in its lifespan, NATS, the stores and every part.

Connectors reach it over HTTP and WebSocket (``/api/mcp/*``); orchestrators over NATS (``ExecuteToolCall``,
``ListTools``). Replicas share state only through NATS: KV buckets, the tool queue and the deliver subjects.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import nats
import nats.errors
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient

from switchboard.common.ids import new_id
from switchboard.common.metrics import sample_round_trip
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.auth import Authenticator
from switchboard.tool_broker.bus_handlers import SERVICE_NAME, BusHandlers
from switchboard.tool_broker.calls import timed_out
from switchboard.tool_broker.connections import ConnectionRegistry
from switchboard.tool_broker.dispatcher import Dispatcher
from switchboard.tool_broker.heartbeat import Heartbeat
from switchboard.tool_broker.http_errors import install_error_handlers
from switchboard.tool_broker.local_delivery import LocalDelivery
from switchboard.tool_broker.metrics import ObservedCompletions, tool_broker_metrics
from switchboard.tool_broker.poll_queue import PollQueue
from switchboard.tool_broker.pollers import Pollers
from switchboard.tool_broker.presence import Presence
from switchboard.tool_broker.registrations import Registrations
from switchboard.tool_broker.request_context import FASTAPI_TELEMETRY, RequestIdMiddleware
from switchboard.tool_broker.routes import connectors, health, metrics, polling, websocket
from switchboard.tool_broker.settings import ToolBrokerSettings
from switchboard.tool_broker.state import BrokerState
from switchboard.tool_broker.stores import KeyLister, open_stores

__all__ = ["SERVICE_NAME", "create_app"]


def create_app(settings: ToolBrokerSettings) -> FastAPI:
    app = FastAPI(
        title="Switchboard tool-broker",
        telemetry=FASTAPI_TELEMETRY,
        lifespan=_lifespan(settings),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    for module in (health, metrics, connectors, polling, websocket):
        app.include_router(module.router)
    return app


def _lifespan(settings: ToolBrokerSettings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            nc = await nats.connect(servers=settings.nats_servers(), name=SERVICE_NAME, max_reconnect_attempts=-1)
            stack.push_async_callback(nc.drain)
            state, local = await _components(settings, nc)
            stack.push_async_callback(local.close)
            stack.push_async_callback(state.pollers.close)
            bus = BusHandlers(
                nc, settings.subjects, state.instance, auth=state.auth, registry=state.registry,
                dispatcher=state.dispatcher, registrations=state.registrations, presence=state.presence,
            )  # fmt: skip
            await bus.start()
            stack.push_async_callback(bus.stop)
            stack.callback(state.dispatcher.close)

            async def overdue(call: ExecuteToolCall) -> None:
                await state.completions.error(call, timed_out(call))

            heartbeat = Heartbeat(state.registry, settings.heartbeat_interval, settings.idle_timeout, overdue)
            stack.push_async_callback(state.presence.withdraw)
            _watch_connectors(state)
            rtt = sample_round_trip(
                lambda: nc.rtt(timeout=5), tool_broker_metrics().nats_rtt, (nats.errors.Error, TimeoutError)
            )
            for loop in (heartbeat.run(), state.presence.run(), rtt):
                stack.push_async_callback(_cancel, asyncio.create_task(loop))
            app.state.broker = state
            yield

    return lifespan


async def _components(settings: ToolBrokerSettings, nc: NatsClient) -> tuple[BrokerState, LocalDelivery]:
    subjects = settings.subjects
    instance = new_id("tb")
    stores = await open_stores(nc.jetstream(), subjects)
    registry = ConnectionRegistry()
    local = LocalDelivery(nc, subjects, registry, settings.max_inflight_per_connection)
    registry.on_change = local.sync
    registrations = Registrations(stores.servers, KeyLister(stores.js, subjects.tool_servers_bucket))
    connections = KeyLister(stores.js, subjects.tool_connections_bucket)
    queue = PollQueue(stores, subjects)
    completions = ObservedCompletions(nc, settings.result_max_bytes)
    dispatcher = Dispatcher(
        nc, subjects, registrations, local, queue, completions, settings.max_inflight_per_connection
    )
    state = BrokerState(
        settings=settings,
        instance=instance,
        auth=Authenticator(nc, subjects, settings.auth_cache_ttl),
        registry=registry,
        registrations=registrations,
        presence=Presence(stores.connections, connections, instance, registry, settings.idle_timeout),
        dispatcher=dispatcher,
        queue=queue,
        pollers=Pollers(stores, subjects, queue),
        completions=completions,
    )
    return state, local


def _watch_connectors(state: BrokerState) -> None:
    """The connectors gauge reads the registry and presence at scrape time: nothing to update per connection."""
    gauge = tool_broker_metrics().connectors
    gauge.labels("websocket").set_function(lambda: len(state.registry))
    gauge.labels("polling").set_function(state.presence.live_pollers)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
