"""An OpenAI-compatible provider (LiteLLM, vLLM, OpenRouter, …): Anthropic requests translated both ways."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

import aiohttp

from switchboard.common.anthropic import format_sse
from switchboard.common.errors import UpstreamUnavailableError, error_body
from switchboard.common.tracing import trace_headers
from switchboard.orchestrator.providers.base import ModelInfo, ResponseSink, UpstreamCall
from switchboard.orchestrator.providers.request_json import body_object
from switchboard.orchestrator.route_config import ProviderSpec
from switchboard.orchestrator.sse import SseSplitter, event_fields
from switchboard.orchestrator.token_estimate import estimate_input_tokens
from switchboard.orchestrator.translation.anthropic_openai.errors import to_anthropic_error
from switchboard.orchestrator.translation.anthropic_openai.request import to_openai_request
from switchboard.orchestrator.translation.anthropic_openai.response import to_anthropic_message
from switchboard.orchestrator.translation.anthropic_openai.signatures import ThinkingSigner
from switchboard.orchestrator.translation.anthropic_openai.stream import StreamTranslator
from switchboard.orchestrator.upstream_errors import dump_json, read_error_body, transport_failure

__all__ = ["OpenAICompatibleProvider", "chat_completions_url"]

logger = logging.getLogger(__name__)

MODELS_TIMEOUT_SECONDS = 2.0
MODELS_CACHE_SECONDS = 60.0
_DONE = "[DONE]"


def chat_completions_url(base_url: str) -> str:
    """``…/v1`` → ``…/v1/chat/completions``; a bare host (LiteLLM's usual form) → ``…/v1/chat/completions``."""
    return f"{base_url}/chat/completions" if base_url.endswith("/v1") else f"{base_url}/v1/chat/completions"


def _models_url(base_url: str) -> str:
    return f"{base_url}/models" if base_url.endswith("/v1") else f"{base_url}/v1/models"


class OpenAICompatibleProvider:
    def __init__(
        self, spec: ProviderSpec, client: aiohttp.ClientSession, timeout: aiohttp.ClientTimeout, signer: ThinkingSigner
    ) -> None:
        self._spec = spec
        self._client = client
        self._signer = signer
        self._url = chat_completions_url(spec.base_url)
        self._timeout = spec.timeout(timeout)
        self._models: list[ModelInfo] = []
        self._models_fetched_at = float("-inf")
        self._models_lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return self._spec.name

    async def send(self, call: UpstreamCall, sink: ResponseSink) -> None:
        request = body_object(call.body)
        if call.endpoint == "count_tokens":
            # OpenAI-compatible servers have no counting endpoint: a local estimate (~4 characters a token).
            await sink.body(200, {}, dump_json({"input_tokens": estimate_input_tokens(request)}))
            return
        payload = to_openai_request(
            request,
            upstream_model=call.upstream_model,
            api_version=call.api_version,
            signer=self._signer,
            max_output_tokens=self._spec.max_output_tokens,
        )
        context = _Context(call, request, estimate_input_tokens(request))
        try:
            if payload.get("stream"):
                await self._stream(payload, context, sink)
            else:
                await self._complete(payload, context, sink)
        except aiohttp.ClientError as exc:
            raise transport_failure(self.name, exc) from exc

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "application/json", **trace_headers()}
        if self._spec.api_key is not None:
            headers["authorization"] = f"Bearer {self._spec.api_key.get_secret_value()}"
        return headers

    def _post(self, payload: dict[str, Any]) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        body = dump_json(payload).encode()
        return self._client.post(self._url, data=body, headers=self._headers(), timeout=self._timeout)

    async def _complete(self, payload: dict[str, Any], context: _Context, sink: ResponseSink) -> None:
        async with self._post(payload) as response:
            if not response.ok:
                await _error(response.status, await read_error_body(response), response.headers, sink)
                return
            content = await response.read()
        message = to_anthropic_message(
            json.loads(content),
            requested_model=context.call.requested_model,
            stop_sequences=context.stop_sequences,
            signer=self._signer,
            input_estimate=context.input_estimate,
        )
        await sink.body(200, {}, dump_json(message))

    async def _stream(self, payload: dict[str, Any], context: _Context, sink: ResponseSink) -> None:
        async with self._post(payload) as response:
            if not response.ok:
                await _error(response.status, await read_error_body(response), response.headers, sink)
                return
            translator = StreamTranslator(
                requested_model=context.call.requested_model,
                stop_sequences=context.stop_sequences,
                signer=self._signer,
                input_estimate=context.input_estimate,
            )
            await sink.start_stream({})
            await _emit(sink, translator.start())
            chunks = _ChunkStream(response)
            async for chunk in chunks:
                if "error" in chunk:
                    await _emit(sink, translator.error(chunk["error"]))
                    await sink.finish_stream()
                    return
                await _emit(sink, translator.feed(chunk))
            if not chunks.done:
                raise UpstreamUnavailableError(f"upstream provider {self.name} ended the stream early")
            await _emit(sink, translator.finish())
        await sink.finish_stream()

    async def list_models(self) -> list[ModelInfo]:
        """The server's ``/v1/models`` in Anthropic's ModelInfo shape, cached (it also decides routing)."""
        if time.monotonic() - self._models_fetched_at >= MODELS_CACHE_SECONDS:
            async with self._models_lock:  # one fetch at a time; callers queued behind it reuse its result
                if time.monotonic() - self._models_fetched_at >= MODELS_CACHE_SECONDS:
                    self._models = await self._fetch_models()
                    self._models_fetched_at = time.monotonic()
        return self._models

    async def _fetch_models(self) -> list[ModelInfo]:
        try:
            async with self._client.get(
                _models_url(self._spec.base_url),
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=MODELS_TIMEOUT_SECONDS),
                raise_for_status=True,
            ) as response:
                data = (await response.json(content_type=None)).get("data")
        except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError) as exc:
            logger.warning("listing models of provider %s failed: %s", self.name, type(exc).__name__)
            return self._models  # keep the last good list
        return [_model_info(item) for item in data or [] if isinstance(item, dict) and isinstance(item.get("id"), str)]


class _Context:
    def __init__(self, call: UpstreamCall, request: dict[str, Any], input_estimate: int) -> None:
        self.call = call
        self.input_estimate = input_estimate
        stops = request.get("stop_sequences")
        self.stop_sequences: list[str] = [s for s in stops if isinstance(s, str)] if isinstance(stops, list) else []


async def _emit(sink: ResponseSink, events: list[tuple[str, dict[str, Any]]]) -> None:
    if events:
        await sink.stream_bytes(b"".join(format_sse(data) for _, data in events))


class _ChunkStream:
    """The JSON payloads of an OpenAI-style SSE stream; ``done`` once ``[DONE]`` arrived."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.done = False

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        splitter = SseSplitter()
        async for raw in self._response.content.iter_any():
            for event in splitter.feed(raw):
                data = event_fields(event)[1].strip()
                if data == _DONE:
                    self.done = True
                    return
                chunk = json.loads(data) if data else None
                if isinstance(chunk, dict):
                    yield chunk


async def _error(status: int, body: bytes, headers: Mapping[str, str], sink: ResponseSink) -> None:
    status, error_type, message, passed = to_anthropic_error(status, body, headers)
    await sink.upstream_error(status, passed, dump_json(error_body(error_type, message, "")).encode())


def _model_info(item: Mapping[str, Any]) -> ModelInfo:
    created = item.get("created")
    created_at = (
        datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(created, int)
        else "1970-01-01T00:00:00Z"
    )
    model_id = str(item["id"])
    return {"id": model_id, "type": "model", "display_name": model_id, "created_at": created_at, "lifecycle": "active"}
