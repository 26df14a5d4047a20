"""Bodies of ``GET /v1/models`` (a page) and ``GET /v1/models/{model_id}`` (one ``ModelInfo``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias

from .wire import WireModel

__all__ = ["CapabilitySupport", "ModelInfo", "ModelsPage"]

Lifecycle: TypeAlias = Literal["active", "deprecated", "retired"] | str


class CapabilitySupport(WireModel):
    """Whether a model supports a capability; some capabilities nest more of these (``effort.high``, …)."""

    supported: bool


class ModelInfo(WireModel):
    """One model. ``created_at`` is RFC 3339, the epoch when unknown.

    SDKs before 2026 read only ``type``, ``id``, ``display_name`` and ``created_at``.
    """

    type: Literal["model"] = "model"
    id: str
    display_name: str
    created_at: datetime
    lifecycle: Lifecycle | None = None
    deprecated_at: datetime | None = None
    retires_at: datetime | None = None
    line: str | None = None
    max_input_tokens: int | None = None
    max_tokens: int | None = None
    capabilities: dict[str, CapabilitySupport] | None = None


class ModelsPage(WireModel):
    """A page of models. ``has_more`` must be present: the SDK paginator keeps asking for more unless it is false."""

    data: list[ModelInfo]
    has_more: bool
    first_id: str | None
    last_id: str | None
