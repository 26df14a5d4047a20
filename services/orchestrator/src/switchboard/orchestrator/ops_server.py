"""The ops HTTP endpoint (``SWITCHBOARD_OPS_PORT``): ``/metrics``, ``/livez`` and ``/readyz`` for Kubernetes."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from switchboard.orchestrator.metrics import orchestrator_metrics

__all__ = ["OpsServer"]


class OpsServer:
    """``/readyz`` answers 200 while ``ready()`` is true (connected and subscribed), else 503."""

    def __init__(self, host: str, port: int, ready: Callable[[], bool]) -> None:
        self._host, self._port, self._ready = host, port, ready
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _metrics(self, _: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(orchestrator_metrics().registry))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    async def _livez(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _: web.Request) -> web.Response:
        ready = self._ready()
        return web.json_response({"status": "ready" if ready else "not ready"}, status=200 if ready else 503)
