"""What every provider implements, and the sink it writes its answer to.

A provider turns one :class:`UpstreamCall` into calls on a :class:`ResponseSink`: ``start_stream`` then
``stream_bytes``… then ``finish_stream`` for a streamed answer, ``body`` for a whole one, ``upstream_error`` for an
HTTP error answer. Failures to reach the provider are raised as ``SwitchboardError`` subclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from switchboard.common.events import Endpoint

__all__ = ["ModelInfo", "Provider", "ResponseSink", "UpstreamCall"]

ModelInfo = dict[str, object]
"""An Anthropic ``ModelInfo`` object."""


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    request_id: str
    endpoint: Endpoint
    stream: bool
    body: bytes
    """The client's JSON body, byte for byte."""
    requested_model: str
    upstream_model: str
    api_version: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: str = ""


class ResponseSink(Protocol):
    async def start_stream(self, headers: Mapping[str, str]) -> None: ...

    async def stream_bytes(self, chunk: bytes) -> None: ...

    async def finish_stream(self) -> None: ...

    async def body(self, status: int, headers: Mapping[str, str], text: str) -> None: ...

    async def upstream_error(self, status: int, headers: Mapping[str, str], body: bytes) -> None: ...


class Provider(Protocol):
    @property
    def name(self) -> str: ...

    async def send(self, call: UpstreamCall, sink: ResponseSink) -> None: ...

    async def list_models(self) -> list[ModelInfo]:
        """The provider's own models (best effort, may be empty)."""
        ...
