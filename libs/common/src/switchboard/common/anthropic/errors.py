"""The shape of an Anthropic error body, and of the ``error`` event that ends a failed stream.

Building error bodies is ``switchboard.common.errors``' job; these models parse and type them.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from .wire import WireModel

__all__ = ["ErrorDetail", "ErrorDetails", "ErrorResponse", "ErrorType"]

ErrorType: TypeAlias = (
    Literal[
        "invalid_request_error",
        "authentication_error",
        "billing_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
        "rate_limit_error",
        "timeout_error",
        "api_error",
        "overloaded_error",
        "conflict_error",
    ]
    | str
)


class ErrorDetails(WireModel):
    """Machine-readable extras; ``error_code`` is a stable code such as ``enforced_spend_limit_reached``."""

    error_code: str | None = None


class ErrorDetail(WireModel):
    type: ErrorType
    message: str
    details: ErrorDetails | None = None


class ErrorResponse(WireModel):
    """``{"type": "error", "error": {...}, "request_id": ...}``; mid-stream ``error`` events may lack ``request_id``."""

    type: Literal["error"] = "error"
    error: ErrorDetail
    request_id: str | None = None
