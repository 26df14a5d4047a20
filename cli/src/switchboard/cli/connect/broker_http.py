"""The broker's HTTP endpoints (``/api/mcp/*``) as the connector uses them, with failures sorted for the caller.

401 and 403 raise :class:`AuthenticationError` (retrying cannot help); an unreachable broker or any other error
status raises :class:`LinkDroppedError` (the caller backs off and retries).
"""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from switchboard.cli.connect.errors import AuthenticationError, LinkDroppedError
from switchboard.cli.connect.options import ConnectOptions
from switchboard.common.mcp_protocol import PollRequest, PollResponse, RegisterRequest, SubmitRequest

__all__ = ["BrokerHttp", "http_client"]

_Model = TypeVar("_Model", bound=BaseModel)


class _Status(BaseModel):
    user_id: str


class _Ignored(BaseModel):
    """Any JSON object: the answer is not needed."""


def http_client(options: ConnectOptions) -> httpx.AsyncClient:
    """An HTTP client carrying the key; its read timeout outlasts a long poll."""
    return httpx.AsyncClient(
        headers={"x-api-key": options.key, "user-agent": "switchboard-connect"},
        timeout=httpx.Timeout(options.poll_wait + 15.0, connect=10.0),
    )


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


class BrokerHttp:
    def __init__(self, options: ConnectOptions, client: httpx.AsyncClient) -> None:
        self._options = options
        self._client = client

    async def _send(self, method: str, path: str, body: BaseModel | None = None) -> httpx.Response:
        url = self._options.http_url(path)
        content = body.model_dump_json(by_alias=True, exclude_none=True) if body is not None else None
        headers = {"content-type": "application/json"} if body is not None else None
        try:
            response = await self._client.request(method, url, content=content, headers=headers)
        except httpx.TransportError as exc:
            raise LinkDroppedError(f"cannot reach {url}: {exc or type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise AuthenticationError(
                f"Switchboard refused the key (HTTP {response.status_code}): {_error_message(response)}"
            )
        return response

    async def _call(self, method: str, path: str, body: BaseModel | None, answer: type[_Model]) -> _Model:
        response = await self._send(method, path, body)
        if response.is_error:
            raise LinkDroppedError(f"{method} {path} answered HTTP {response.status_code}: {_error_message(response)}")
        try:
            return answer.model_validate_json(response.content)
        except ValidationError:
            raise LinkDroppedError(f"{method} {path} answered something that is not the expected JSON") from None

    async def user_id(self) -> str:
        """Who the key belongs to (``GET /api/mcp/status``)."""
        return (await self._call("GET", "/api/mcp/status", None, _Status)).user_id

    async def register(self, request: RegisterRequest) -> None:
        await self._call("POST", "/api/mcp/register", request, _Ignored)

    async def poll(self, request: PollRequest) -> PollResponse:
        return await self._call("POST", "/api/mcp/poll", request, PollResponse)

    async def submit(self, request: SubmitRequest) -> bool:
        """Hand in a result; ``False`` when the broker no longer knows the call (answered, expired)."""
        response = await self._send("POST", "/api/mcp/submit", request)
        if response.status_code == 404:
            return False
        if response.is_error:
            raise LinkDroppedError(
                f"POST /api/mcp/submit answered HTTP {response.status_code}: {_error_message(response)}"
            )
        return True
