"""Serving one ``ExecuteRequest`` from ``accepted`` to ``end``, then recording what happened."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import nats.errors
from nats.aio.client import Client
from opentelemetry.trace import SpanKind

from switchboard.common.errors import ApiError, NotFoundError, OverloadedError, SwitchboardError
from switchboard.common.events import ExecuteRequest, utc_now
from switchboard.common.tracing import span
from switchboard.orchestrator.agents.agent_config import Agent, Agents
from switchboard.orchestrator.agents.broker_client import ToolBroker
from switchboard.orchestrator.agents.counting import agent_count_body
from switchboard.orchestrator.agents.loop import AgentLoop
from switchboard.orchestrator.agents.selection import routed_model, select_agent
from switchboard.orchestrator.agents.trace import AgentTrace
from switchboard.orchestrator.bodies import BodyStore
from switchboard.orchestrator.byok import ByokProviders
from switchboard.orchestrator.completion import CompletionRecorder, completion_event
from switchboard.orchestrator.fallback import RETRYABLE_STATUSES, FallbackGuard, TargetFailedError
from switchboard.orchestrator.listed_routes import byok_route, listed_route
from switchboard.orchestrator.metrics import orchestrator_metrics
from switchboard.orchestrator.providers.base import Provider, ResponseSink, UpstreamCall
from switchboard.orchestrator.reply_stream import ReplyStream
from switchboard.orchestrator.response_writer import ResponseWriter
from switchboard.orchestrator.routing import ModelRouter, Route, Target

__all__ = ["RequestRun", "Services", "StopReason"]

logger = logging.getLogger(__name__)

StopReason = Literal["client", "shutdown"]


@dataclass(frozen=True)
class Services:
    """What a request needs, built once per replica by the app."""

    connection: Client
    router: ModelRouter
    listed_provider: Provider | None
    """The provider whose own model list is routable too (LiteLLM, when configured)."""
    providers: Mapping[str, Provider]
    bodies: BodyStore
    recorder: CompletionRecorder
    heartbeat_interval: float
    byok: ByokProviders
    """Builds the per-request provider for a caller who brought their own key."""
    agents: Agents
    tool_broker: ToolBroker
    """The tool-broker on the bus: the user's MCP tools, and their calls, for agent mode."""


class RequestRun:
    def __init__(self, request: ExecuteRequest, services: Services) -> None:
        self.request = request
        self.stop_reason: StopReason | None = None
        """Why the task is being cancelled; set by whoever cancels it."""
        self.finishing = False
        """Past the answer: cancelling now would only lose the usage record."""
        self._services = services
        self._reply = ReplyStream(services.connection, request, services.heartbeat_interval)
        self._writer = ResponseWriter(self._reply, request.request_id)
        self.served_by: Target | None = None
        """The target that answered (or the last one tried)."""
        self.targets_tried: list[str] = []
        self.byok = False
        """Whether the target that answered (or was last tried) used the caller's own key."""
        self.agent: AgentTrace | None = None
        """What the agent did, when the request runs in agent mode."""
        self._started_at = utc_now()
        self._started = time.monotonic()
        self._body: bytes | None = None

    async def run(self) -> None:
        try:
            await self._attempt()
        finally:
            await self._finish()

    async def _attempt(self) -> None:
        try:
            await self._reply.accept()
            async with self._reply.heartbeats():
                await self._serve()
        except asyncio.CancelledError:
            # Swallowed on purpose: the run still owes the gateway an ``end`` and the usage stream a record.
            if (task := asyncio.current_task()) is not None:
                task.uncancel()
            await self._interrupted()
        except SwitchboardError as exc:
            await self._writer.fail(exc)
        except Exception:
            logger.exception("request %s failed inside the orchestrator", self.request.request_id)
            await self._writer.fail(ApiError("internal error in the orchestrator"))

    async def _serve(self) -> None:
        request = self.request
        agent = select_agent(request, self._services.agents)
        route = await self._route(routed_model(request, agent))
        body = await self._services.bodies.load(request)
        self._body = body
        if agent is None:
            await self._dispatch(route, body, self._writer, stream=request.stream)
        elif request.endpoint == "count_tokens":  # no loop: the first call's prompt, with the agent's tools
            counted = await agent_count_body(agent, request, body, self._services.tool_broker)
            await self._dispatch(route, counted, self._writer, stream=False)
        else:
            await self._run_agent(agent, route, body)

    async def _route(self, model: str) -> Route:
        router = self._services.router
        # A user's own "provider/model" beats wildcard patterns (a catch-all would otherwise hide it), not names.
        route = (
            router.resolve_exact(model)
            or byok_route(model, self.request.byok, self._services.providers)
            or router.resolve_pattern(model)
            or await listed_route(self._services.listed_provider, model)
        )
        if route is None:
            raise NotFoundError(f"model: {model}")
        return route

    async def _dispatch(self, route: Route, body: bytes, sink: ResponseSink, *, stream: bool) -> None:
        """Try the route's targets in order: each but the last behind a guard that lets a retryable failure pass."""
        for target in route.targets[:-1]:
            try:
                await self._try(target, body, FallbackGuard(sink), stream=stream)
                return
            except TargetFailedError as exc:
                logger.warning("request %s: %s failed (HTTP %d), trying the next target",
                               self.request.request_id, target.label(), exc.status)  # fmt: skip
        await self._try(route.targets[-1], body, sink, stream=stream)

    async def _try(self, target: Target, body: bytes, sink: ResponseSink, *, stream: bool) -> None:
        self.served_by = target
        self.targets_tried.append(target.label())
        await self._send(target, body, sink, stream=stream)

    async def _send(self, target: Target, body: bytes, sink: ResponseSink, *, stream: bool) -> None:
        """Send the request to one target; with a guard, a retryable failure raises ``TargetFailedError``."""
        request = self.request
        provider = await self._provider(target)
        self._writer.provider = provider.name
        call = UpstreamCall(
            request_id=request.request_id,
            endpoint=request.endpoint,
            stream=stream,
            body=body,
            requested_model=request.model,
            upstream_model=target.upstream_model,
            api_version=request.api_version,
            headers=request.headers,
            query=request.query,
        )
        started = time.perf_counter()
        try:
            with span(f"upstream {provider.name}", kind=SpanKind.CLIENT) as current:
                if current.is_recording():
                    current.set_attributes(
                        {"gen_ai.system": provider.name, "gen_ai.request.model": target.upstream_model}
                    )
                await provider.send(call, sink)
        except SwitchboardError as exc:
            if isinstance(sink, FallbackGuard) and not sink.committed and exc.status_code in RETRYABLE_STATUSES:
                raise TargetFailedError(exc.status_code) from exc
            raise
        finally:
            orchestrator_metrics().upstream_call(provider.name, time.perf_counter() - started)

    async def _run_agent(self, agent: Agent, route: Route, body: bytes) -> None:
        self.agent = AgentTrace(agent.name)
        pinned: Target | None = None

        async def upstream(iteration_body: bytes, sink: ResponseSink) -> None:
            nonlocal pinned
            if pinned is None:
                await self._dispatch(route, iteration_body, sink, stream=True)
                pinned = self.served_by
            else:
                # Later iterations stay on the target that answered the first: its signatures and cache are there.
                await self._send(pinned, iteration_body, sink, stream=True)

        loop = AgentLoop(agent, self.request, self._writer, self._services.tool_broker, upstream, self.agent)
        await loop.run(body, routed_model(self.request, agent))

    async def _provider(self, target: Target) -> Provider:
        """The routed provider, or a copy of it holding the caller's own key when they brought one for it."""
        self.byok = False
        credential = self.request.byok.get(target.provider)
        own = await self._services.byok.provider_for(target.provider, credential) if credential is not None else None
        if own is None:
            return self._services.providers[target.provider]
        self.byok = True
        return own

    async def _interrupted(self) -> None:
        if self.stop_reason == "shutdown":
            await self._writer.fail(OverloadedError("the orchestrator serving this request shut down; retry"))
        else:
            self._writer.cancelled()

    async def _finish(self) -> None:
        self.finishing = True
        latency_ms = (time.monotonic() - self._started) * 1000
        try:
            await self._reply.end()
        except nats.errors.Error as exc:
            logger.warning("request %s: end frame not sent: %s", self.request.request_id, type(exc).__name__)
        outcome = self._writer.outcome
        target = self.served_by.label() if self.served_by else "-"
        logger.debug(  # at DEBUG: a line costs ~20 µs, and each request's facts are in its completion event
            "request %s model=%s target=%s status=%s http=%d latency_ms=%.0f",
            self.request.request_id, self.request.model, target, outcome.status, outcome.http_status, latency_ms,
            extra={"model": self.request.model, "target": target, "outcome": outcome.status,
                   "http_status": outcome.http_status, "latency_ms": round(latency_ms, 1)},
        )  # fmt: skip
        event = completion_event(
            self.request, self.served_by, self.targets_tried, self._writer, self._started_at, latency_ms,
            byok=self.byok, agent=self.agent, request_body=self._body,
        )  # fmt: skip
        await self._services.recorder.record(event)
        orchestrator_metrics().request_done(
            self._writer.provider, self.request.model, outcome.status, routed=self.served_by is not None
        )
