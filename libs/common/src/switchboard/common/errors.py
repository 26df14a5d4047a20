"""The one error taxonomy, mapped once to Anthropic's ``error.type`` and HTTP status.

Every error Switchboard reports to a client is one of these classes; :func:`error_body` is the only place an
error body is built::

    SwitchboardError
    ├── InvalidRequestError      400 invalid_request_error
    ├── AuthenticationError      401 authentication_error
    ├── BillingError             402 billing_error
    ├── PermissionDeniedError    403 permission_error
    ├── NotFoundError            404 not_found_error
    ├── RequestTooLargeError     413 request_too_large
    ├── RateLimitedError         429 rate_limit_error
    ├── ApiError                 500 api_error
    ├── UpstreamUnavailableError 502 api_error
    ├── GatewayTimeoutError      504 timeout_error
    └── OverloadedError          529 overloaded_error
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BillingError",
    "GatewayTimeoutError",
    "InvalidRequestError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestTooLargeError",
    "SwitchboardError",
    "UpstreamUnavailableError",
    "error_body",
    "error_type_for_status",
    "status_for_error_type",
]


class SwitchboardError(Exception):
    """Base of every client-facing error. ``message`` is shown to the client: never put a secret in it."""

    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self, request_id: str) -> dict[str, Any]:
        return error_body(self.error_type, self.message, request_id)


class InvalidRequestError(SwitchboardError):
    status_code = 400
    error_type = "invalid_request_error"


class AuthenticationError(SwitchboardError):
    status_code = 401
    error_type = "authentication_error"


class BillingError(SwitchboardError):
    status_code = 402
    error_type = "billing_error"


class PermissionDeniedError(SwitchboardError):
    status_code = 403
    error_type = "permission_error"


class NotFoundError(SwitchboardError):
    status_code = 404
    error_type = "not_found_error"


class RequestTooLargeError(SwitchboardError):
    status_code = 413
    error_type = "request_too_large"


class RateLimitedError(SwitchboardError):
    status_code = 429
    error_type = "rate_limit_error"


class ApiError(SwitchboardError):
    status_code = 500
    error_type = "api_error"


class UpstreamUnavailableError(SwitchboardError):
    """The provider could not be reached (connection refused, reset, TLS failure)."""

    status_code = 502
    error_type = "api_error"


class GatewayTimeoutError(SwitchboardError):
    status_code = 504
    error_type = "timeout_error"


class OverloadedError(SwitchboardError):
    status_code = 529
    error_type = "overloaded_error"


_TAXONOMY: tuple[type[SwitchboardError], ...] = (
    InvalidRequestError,
    AuthenticationError,
    BillingError,
    PermissionDeniedError,
    NotFoundError,
    RequestTooLargeError,
    RateLimitedError,
    ApiError,
    GatewayTimeoutError,
    OverloadedError,
)
_TYPE_BY_STATUS: dict[int, str] = {cls.status_code: cls.error_type for cls in _TAXONOMY}
_STATUS_BY_TYPE: dict[str, int] = {cls.error_type: cls.status_code for cls in _TAXONOMY}


def status_for_error_type(error_type: str) -> int:
    """The HTTP status Anthropic sends with an ``error.type`` (500 for a type it does not define)."""
    return _STATUS_BY_TYPE.get(error_type, 500)


def error_type_for_status(status: int) -> str:
    """Anthropic's ``error.type`` for an HTTP status (other 4xx are ``invalid_request_error``)."""
    if status in _TYPE_BY_STATUS:
        return _TYPE_BY_STATUS[status]
    return "invalid_request_error" if 400 <= status < 500 else "api_error"


def error_body(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    """``{"type":"error","error":{"type":…,"message":…},"request_id":…}``: Anthropic's error shape."""
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}
