"""The native provider: Anthropic's Messages API (or anything speaking it), bytes passed through untouched."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AbstractAsyncContextManager
from http import HTTPStatus

import aiohttp

from switchboard.orchestrator.headers import response_headers, upstream_request_headers
from switchboard.orchestrator.providers.base import ModelInfo, ResponseSink, UpstreamCall
from switchboard.orchestrator.providers.request_json import body_object
from switchboard.orchestrator.route_config import ProviderSpec
from switchboard.orchestrator.token_estimate import estimate_input_tokens
from switchboard.orchestrator.upstream_errors import dump_json, read_error_body, transport_failure

__all__ = ["AnthropicProvider"]

logger = logging.getLogger(__name__)

MODELS_CACHE_SECONDS = 300.0
MODELS_RETRY_SECONDS = 30.0
MODELS_TIMEOUT_SECONDS = 2.0
MODELS_API_VERSION = "2023-06-01"


class AnthropicProvider:
    def __init__(self, spec: ProviderSpec, client: aiohttp.ClientSession, timeout: aiohttp.ClientTimeout) -> None:
        self._spec = spec
        self._client = client
        self._models: list[ModelInfo] = []
        self._models_fetched_at = float("-inf")
        self._models_lock = asyncio.Lock()
        self._timeout = spec.timeout(timeout)

    @property
    def name(self) -> str:
        return self._spec.name

    async def send(self, call: UpstreamCall, sink: ResponseSink) -> None:
        try:
            if call.endpoint == "count_tokens":
                await self._count_tokens(call, sink)
            elif call.stream:
                await self._stream(call, sink)
            else:
                await self._complete(call, sink)
        except aiohttp.ClientError as exc:
            raise transport_failure(self.name, exc) from exc

    def _post(self, call: UpstreamCall) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        return self._client.post(self._url(call), data=_body(call), headers=self._headers(call), timeout=self._timeout)

    async def _stream(self, call: UpstreamCall, sink: ResponseSink) -> None:
        async with self._post(call) as r:
            if r.status != HTTPStatus.OK:
                await sink.upstream_error(r.status, response_headers(r.headers.items()), await read_error_body(r))
                return
            await sink.start_stream(response_headers(r.headers.items()))
            async for chunk in r.content.iter_any():
                await sink.stream_bytes(chunk)
        await sink.finish_stream()

    async def _complete(self, call: UpstreamCall, sink: ResponseSink) -> None:
        async with self._post(call) as response:
            await _answer(response, await _read_capped(response), sink)

    async def _count_tokens(self, call: UpstreamCall, sink: ResponseSink) -> None:
        async with self._post(call) as response:
            content = await _read_capped(response)
        if _endpoint_missing(response.status, content, call.upstream_model):
            # A proxy without count_tokens: an estimate beats an error, which makes Claude Code burn inference.
            estimate = estimate_input_tokens(body_object(call.body))
            await sink.body(200, {}, dump_json({"input_tokens": estimate}))
            return
        await _answer(response, content, sink)

    def _url(self, call: UpstreamCall) -> str:
        path = "/v1/messages/count_tokens" if call.endpoint == "count_tokens" else "/v1/messages"
        return f"{self._spec.base_url}{path}" + (f"?{call.query}" if call.query else "")

    def _headers(self, call: UpstreamCall) -> dict[str, str]:
        return upstream_request_headers(call.headers, api_version=call.api_version, api_key=self._spec.api_key)

    async def list_models(self) -> list[ModelInfo]:
        """The upstream's ``/v1/models`` (one page of up to 1000), cached; empty without an API key."""
        if self._spec.api_key is None:
            return []
        async with self._models_lock:  # one fetch at a time; callers queued behind it reuse its result
            if time.monotonic() - self._models_fetched_at >= MODELS_CACHE_SECONDS:
                await self._fetch_models()
        return self._models

    async def _fetch_models(self) -> None:
        try:
            async with self._client.get(
                f"{self._spec.base_url}/v1/models",
                params={"limit": 1000},
                headers=upstream_request_headers({}, api_version=MODELS_API_VERSION, api_key=self._spec.api_key),
                timeout=aiohttp.ClientTimeout(total=MODELS_TIMEOUT_SECONDS),
                raise_for_status=True,
            ) as response:
                data = (await response.json(content_type=None)).get("data")
        except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError) as exc:
            logger.warning("listing models of provider %s failed: %s", self.name, type(exc).__name__)
            # Keep what we had and try again a little later, not on every listing.
            self._models_fetched_at = time.monotonic() - MODELS_CACHE_SECONDS + MODELS_RETRY_SECONDS
            return
        self._models = [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
        self._models_fetched_at = time.monotonic()


def _body(call: UpstreamCall) -> bytes:
    """The client's bytes, or, when the route renames the model, the same JSON with only ``model`` changed."""
    if call.upstream_model == call.requested_model:
        return call.body
    payload = body_object(call.body)
    payload["model"] = call.upstream_model
    return dump_json(payload).encode()


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    """A success body whole; an error body only up to ``MAX_ERROR_BODY_BYTES``."""
    return await response.read() if response.ok else await read_error_body(response)


async def _answer(response: aiohttp.ClientResponse, content: bytes, sink: ResponseSink) -> None:
    headers = response_headers(response.headers.items())
    if response.ok:
        await sink.body(response.status, headers, content.decode("utf-8", errors="replace"))
    else:
        await sink.upstream_error(response.status, headers, content)


def _endpoint_missing(status: int, content: bytes, model: str) -> bool:
    """404/405 from a server lacking count_tokens, as opposed to Anthropic's 404 for an unknown model."""
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        return True
    return status == HTTPStatus.NOT_FOUND and model not in content.decode("utf-8", errors="replace")
