"""The base every Anthropic wire model shares, and the open unions that let unknown ``type`` values through.

Anthropic adds block, delta, event and tool types without notice, so every tagged union here falls back to a
model that keeps the object as sent instead of failing validation.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeAlias, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Tag

__all__ = ["UNKNOWN_TAG", "CacheControl", "WireModel", "open_discriminator", "type_of"]

UNKNOWN_TAG = "__unknown__"


class WireModel(BaseModel):
    """Keeps undeclared fields, so ``model_validate`` then ``model_dump(exclude_unset=True)`` is lossless.

    ``dumped_when_unset`` names fields that are serialised even when built from their default, so a block made
    in code as ``TextBlock(text="hi")`` still carries its ``type`` under ``exclude_unset``.
    """

    model_config = ConfigDict(extra="allow")

    dumped_when_unset: ClassVar[frozenset[str]] = frozenset({"type"})

    def model_post_init(self, context: Any, /) -> None:
        self.__pydantic_fields_set__.update(self.dumped_when_unset & type(self).model_fields.keys())


def type_of(value: object) -> object:
    """The ``type`` of a raw JSON object or of a model instance; ``None`` when it has none."""
    if isinstance(value, dict):
        return value.get("type")
    return getattr(value, "type", None)


def open_discriminator(union: object) -> Discriminator:
    """Route on ``type`` to the member tagged with it, and any other value to the one tagged ``UNKNOWN_TAG``.

    ``union`` is a ``|`` of ``Annotated[Model, Tag(...)]`` members; its tags are read once, here.
    """
    tags = frozenset(meta.tag for member in get_args(union) for meta in get_args(member)[1:] if isinstance(meta, Tag))

    def pick(value: object) -> str:
        kind = type_of(value)
        return kind if isinstance(kind, str) and kind in tags else UNKNOWN_TAG

    return Discriminator(pick)


CacheTtl: TypeAlias = Literal["5m", "1h"] | str


class CacheControl(WireModel):
    """``cache_control`` on a block, a tool, a system block or the whole request."""

    type: Literal["ephemeral"] | str = "ephemeral"
    ttl: CacheTtl | None = None
