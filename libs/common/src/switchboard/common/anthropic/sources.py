"""Where an ``image`` or ``document`` block's bytes come from: inline base64 or text, a URL, or an uploaded file.

The ``content`` document source embeds content blocks, so it lives with the blocks in ``content.py``.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Tag

from .wire import UNKNOWN_TAG, WireModel, open_discriminator

__all__ = [
    "Base64Source",
    "FileSource",
    "ImageSource",
    "PlainTextSource",
    "UnknownSource",
    "UrlSource",
]

MediaType: TypeAlias = (
    Literal["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain"] | str
)


class Base64Source(WireModel):
    """Inline bytes: an image (``image/*``) or a PDF (``application/pdf``)."""

    type: Literal["base64"] = "base64"
    media_type: MediaType
    data: str


class UrlSource(WireModel):
    type: Literal["url"] = "url"
    url: str


class FileSource(WireModel):
    """A file uploaded through the Files API."""

    type: Literal["file"] = "file"
    file_id: str


class PlainTextSource(WireModel):
    type: Literal["text"] = "text"
    media_type: MediaType = "text/plain"
    data: str


class UnknownSource(WireModel):
    """A source type this version does not know, kept as sent."""

    type: str


_ImageSources = (
    Annotated[Base64Source, Tag("base64")]
    | Annotated[UrlSource, Tag("url")]
    | Annotated[FileSource, Tag("file")]
    | Annotated[UnknownSource, Tag(UNKNOWN_TAG)]
)
ImageSource = Annotated[_ImageSources, open_discriminator(_ImageSources)]
