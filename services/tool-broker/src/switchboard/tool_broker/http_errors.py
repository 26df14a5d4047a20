"""Turns every HTTP failure into Anthropic's error shape, with the request's id, and never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from nats.errors import Error as NatsError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from switchboard.common.errors import OverloadedError, SwitchboardError, error_body, error_type_for_status
from switchboard.tool_broker.request_context import request_id_of

__all__ = ["error_response", "install_error_handlers"]

logger = logging.getLogger(__name__)


def error_response(connection: HTTPConnection, error: SwitchboardError) -> JSONResponse:
    return JSONResponse(error.body(request_id_of(connection)), status_code=error.status_code)


async def _switchboard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SwitchboardError)
    return error_response(request, exc)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Not found: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    body = error_body(error_type_for_status(exc.status_code), message, request_id_of(request))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
    body = error_body("invalid_request_error", f"{where}: {first.get('msg')}", request_id_of(request))
    return JSONResponse(body, status_code=400)


async def _bus_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("NATS failed serving %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return error_response(request, OverloadedError("The tool-broker's message bus is unavailable; try again."))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error serving %s %s", request.method, request.url.path, exc_info=exc)
    request_id = request_id_of(request)
    # This handler runs outside RequestIdMiddleware, so the header is set here.
    body = error_body("api_error", "Internal server error", request_id)
    return JSONResponse(body, status_code=500, headers={"request-id": request_id})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SwitchboardError, _switchboard_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NatsError, _bus_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
