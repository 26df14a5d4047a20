"""Citations attached to ``text`` blocks and streamed in ``citations_delta``, and the per-document switch."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Tag

from .wire import UNKNOWN_TAG, WireModel, open_discriminator

__all__ = [
    "CharLocationCitation",
    "Citation",
    "CitationsConfig",
    "ContentBlockLocationCitation",
    "PageLocationCitation",
    "SearchResultLocationCitation",
    "UnknownCitation",
    "WebSearchResultLocationCitation",
]


class CitationsConfig(WireModel):
    """``citations`` on a document or search result: whether the model may cite it."""

    enabled: bool | None = None


class _DocumentCitation(WireModel):
    cited_text: str
    document_index: int
    document_title: str | None = None
    file_id: str | None = None


class CharLocationCitation(_DocumentCitation):
    type: Literal["char_location"] = "char_location"
    start_char_index: int
    end_char_index: int


class PageLocationCitation(_DocumentCitation):
    type: Literal["page_location"] = "page_location"
    start_page_number: int
    end_page_number: int


class ContentBlockLocationCitation(_DocumentCitation):
    type: Literal["content_block_location"] = "content_block_location"
    start_block_index: int
    end_block_index: int


class WebSearchResultLocationCitation(WireModel):
    type: Literal["web_search_result_location"] = "web_search_result_location"
    cited_text: str
    url: str
    title: str | None = None
    encrypted_index: str


class SearchResultLocationCitation(WireModel):
    type: Literal["search_result_location"] = "search_result_location"
    cited_text: str
    search_result_index: int
    source: str
    title: str | None = None
    start_block_index: int
    end_block_index: int


class UnknownCitation(WireModel):
    """A citation type this version does not know, kept as sent."""

    type: str


_Citations = (
    Annotated[CharLocationCitation, Tag("char_location")]
    | Annotated[PageLocationCitation, Tag("page_location")]
    | Annotated[ContentBlockLocationCitation, Tag("content_block_location")]
    | Annotated[WebSearchResultLocationCitation, Tag("web_search_result_location")]
    | Annotated[SearchResultLocationCitation, Tag("search_result_location")]
    | Annotated[UnknownCitation, Tag(UNKNOWN_TAG)]
)
Citation = Annotated[_Citations, open_discriminator(_Citations)]
