"""The composition root: one orchestrator replica wired from its settings, with start/stop as its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import nats.errors
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.subscription import Subscription

from switchboard.common.events import ListModels, ModelsListed
from switchboard.common.ids import new_id
from switchboard.common.metrics import sample_round_trip
from switchboard.orchestrator.agents.broker_client import ToolBroker
from switchboard.orchestrator.bodies import BodyStore
from switchboard.orchestrator.byok import ByokProviders, master_keys
from switchboard.orchestrator.byok_models import own_models
from switchboard.orchestrator.completion import CompletionRecorder
from switchboard.orchestrator.dispatcher import Dispatcher
from switchboard.orchestrator.execution import Services
from switchboard.orchestrator.handlers import SERVICE_NAME, register_handlers, subscribe_requests
from switchboard.orchestrator.metrics import orchestrator_metrics
from switchboard.orchestrator.models_catalog import agent_alias_models, list_models
from switchboard.orchestrator.ops_server import OpsServer
from switchboard.orchestrator.providers.anthropic import AnthropicProvider
from switchboard.orchestrator.providers.base import Provider
from switchboard.orchestrator.providers.demo import DemoProvider
from switchboard.orchestrator.providers.openai_compatible import OpenAICompatibleProvider
from switchboard.orchestrator.route_config import LITELLM_PROVIDER, RoutingTable, load_routing_table
from switchboard.orchestrator.routing import ModelRouter
from switchboard.orchestrator.settings import OrchestratorSettings
from switchboard.orchestrator.spool import Spool
from switchboard.orchestrator.spool_drain import SpoolDrainer
from switchboard.orchestrator.translation.anthropic_openai.signatures import ThinkingSigner
from switchboard.orchestrator.usage_stream import UsageStream

__all__ = ["OrchestratorApp", "create_app", "running"]

logger = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT_SECONDS = 10.0
UPSTREAM_POOL_TIMEOUT = 10.0


@dataclass(frozen=True)
class UpstreamPool:
    """The one upstream connection pool of a replica, and the timeouts its requests run with."""

    session: aiohttp.ClientSession
    timeout: aiohttp.ClientTimeout


def build_upstream_pool(settings: OrchestratorSettings) -> UpstreamPool:
    """aiohttp, HTTP/1.1 keep-alive: a fourteenth of httpx's CPU per request (``python -m bench.http_clients``).

    Each in-flight request holds at most one connection; a few spare for model listing. Waiting for a pooled
    connection counts against the connect timeout, as does connecting.
    """
    timeout = aiohttp.ClientTimeout(
        connect=settings.upstream_connect_timeout + UPSTREAM_POOL_TIMEOUT,
        sock_connect=settings.upstream_connect_timeout,
        sock_read=settings.upstream_read_timeout,
    )
    connector = aiohttp.TCPConnector(limit=settings.max_inflight + 8, ttl_dns_cache=300, keepalive_timeout=60)
    # No cookies kept between requests (they would cross users), and our own framing headers only.
    session = aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar())
    return UpstreamPool(session, timeout)


def build_providers(table: RoutingTable, pool: UpstreamPool, signer: ThinkingSigner) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for name, spec in table.providers.items():
        if spec.type == "anthropic":
            providers[name] = AnthropicProvider(spec, pool.session, pool.timeout)
        elif spec.type == "openai":
            providers[name] = OpenAICompatibleProvider(spec, pool.session, pool.timeout, signer)
        else:
            providers[name] = DemoProvider(name)
    return providers


def thinking_signer(settings: OrchestratorSettings) -> ThinkingSigner:
    key = settings.thinking_signing_key.get_secret_value() if settings.thinking_signing_key else ""
    if key:  # an empty value (as compose passes an unset variable through) must not become an empty HMAC key
        return ThinkingSigner(key.encode())
    # Without a shared key each replica signs with its own: reasoning then round-trips only on this replica.
    return ThinkingSigner(secrets.token_bytes(32))


class OrchestratorApp:
    """One replica: its bus connection, upstream pool, providers and in-flight requests."""

    def __init__(self, settings: OrchestratorSettings, table: RoutingTable) -> None:
        self.settings = settings
        self.instance_id = new_id(SERVICE_NAME, 12)
        self.router = ModelRouter(table.routes)
        self._table = table
        self.broker = NatsBroker(
            settings.nats_servers(),
            name=f"switchboard-{self.instance_id}",
            # After nats-py's reconnect attempts (about 2 minutes) the connection closes for good; the replica
            # then exits (see ``connection_lost``) so that its supervisor restarts it rather than it going deaf.
            closed_cb=self._on_connection_closed,
            # FastStream's per-message lines at DEBUG; handler errors still surface at ERROR.
            logger=logging.getLogger("switchboard.orchestrator.bus"),
            log_level=logging.DEBUG,
        )
        self._upstream: UpstreamPool | None = None
        self._providers: dict[str, Provider] = {}
        self._byok: ByokProviders | None = None
        self._execute: Subscription | None = None
        self._dispatcher: Dispatcher | None = None
        self._drainer: SpoolDrainer | None = None
        self._stopping = False
        self.connection_lost = asyncio.Event()
        self._ops: OpsServer | None = None
        self._rtt: asyncio.Task[None] | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            raise RuntimeError("the orchestrator is not started")
        return self._dispatcher

    async def _on_connection_closed(self) -> None:
        if not self._stopping:
            logger.error("the NATS connection is closed and will not come back")
            self.connection_lost.set()

    async def models(self, request: ListModels | None = None) -> ModelsListed:
        """The shared list, then the models of the caller's own providers (BYOK) when they brought any."""
        routed = await list_models(self.router, self._providers, self._listed_provider())
        shared = ModelsListed(models=[*routed.models, *agent_alias_models(self._table.agents)])
        if request is None or not request.byok or self._byok is None:
            return shared
        own = await own_models(self._byok, request.byok, self._providers, self.router)
        shared_ids = {model.get("id") for model in shared.models}
        return ModelsListed(models=[*shared.models, *(info for info in own if info["id"] not in shared_ids)])

    def _listed_provider(self) -> Provider | None:
        return self._providers.get(LITELLM_PROVIDER) if self.settings.litellm_configured else None

    @property
    def ready(self) -> bool:
        """Subscribed to requests on a live connection, and not draining: what ``/readyz`` reports."""
        return not self._stopping and self._execute is not None and self.broker.connection.is_connected

    async def start(self) -> None:
        if self.settings.ops_port is not None:
            self._ops = OpsServer("0.0.0.0", self.settings.ops_port, lambda: self.ready)  # noqa: S104 - probes
            await self._ops.start()
        logger.info("connecting to NATS")
        self._upstream = pool = build_upstream_pool(self.settings)
        signer = thinking_signer(self.settings)
        self._providers = build_providers(self._table, pool, signer)
        keys = master_keys(self.settings.byok_keys)
        byok = ByokProviders(self._table.providers, pool.session, pool.timeout, signer, keys,
                             allow_private=self.settings.byok_allow_private)  # fmt: skip
        self._byok = byok
        await self.broker.connect()
        jetstream = self.broker.connection.jetstream()
        subjects = self.settings.subjects
        usage_stream = UsageStream(jetstream, subjects)
        await usage_stream.ensure()
        self._drainer = SpoolDrainer(usage_stream, Spool(self.settings.spool_path))
        self._drainer.start()
        recorder = CompletionRecorder(usage_stream, self._drainer)
        services = Services(
            connection=self.broker.connection,
            router=self.router,
            listed_provider=self._listed_provider(),
            providers=self._providers,
            bodies=BodyStore(jetstream, subjects.body_bucket),
            recorder=recorder,
            heartbeat_interval=self.settings.heartbeat_interval,
            byok=byok,
            agents=self._table.agents,
            tool_broker=ToolBroker(self.broker.connection, subjects),
        )
        self._dispatcher = dispatcher = Dispatcher(services, self.settings.max_inflight)
        metrics = orchestrator_metrics()
        metrics.inflight.set_function(lambda: dispatcher.inflight)  # read at scrape time: nothing per request
        connection = self.broker.connection
        self._rtt = asyncio.create_task(
            sample_round_trip(lambda: connection.rtt(timeout=5), metrics.nats_rtt, (nats.errors.Error, TimeoutError))
        )
        register_handlers(self.broker, subjects, self._dispatcher, self.instance_id, self.models)
        self._execute = await subscribe_requests(self.broker.connection, subjects, self._dispatcher)
        await self.broker.start()
        await _wait_until_subscribed(self.broker.connection)

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking work, let running requests finish (up to ``grace``, by default the setting), then disconnect."""
        self._stopping = True
        if self._execute is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._execute.unsubscribe()
        if self._dispatcher is not None:
            await self._dispatcher.drain(self.settings.shutdown_grace if grace is None else grace)
        if self._drainer is not None:
            await self._drainer.stop()  # what it could not publish stays spooled for the next start
        # After a lost connection there is nothing left to drain.
        with contextlib.suppress(nats.errors.Error):
            await self.broker.stop()
        if self._upstream is not None:
            await self._upstream.session.close()
        if self._rtt is not None:
            self._rtt.cancel()
        if self._ops is not None:
            await self._ops.stop()


async def _wait_until_subscribed(connection: Client) -> None:
    """Return once the server has processed our SUBs: a request published earlier would be lost (core NATS).

    Not ``flush()``: nats-py 2.16 writes its PING straight to the socket, ahead of still-queued SUBs. A message
    to ourselves travels the same queue as the SUBs, so its arrival proves they were processed.
    """
    inbox = connection.new_inbox()
    subscription = await connection.subscribe(inbox, max_msgs=1)
    await connection.publish(inbox, b"")
    await subscription.next_msg(timeout=SUBSCRIBE_TIMEOUT_SECONDS)


async def create_app(settings: OrchestratorSettings) -> OrchestratorApp:
    """Read the routing config (off the event loop) and build an unstarted replica."""
    table = await asyncio.to_thread(load_routing_table, settings)
    return OrchestratorApp(settings, table)


@contextlib.asynccontextmanager
async def running(settings: OrchestratorSettings) -> AsyncIterator[OrchestratorApp]:
    app = await create_app(settings)
    try:
        await app.start()
        yield app
    finally:
        await app.stop()
