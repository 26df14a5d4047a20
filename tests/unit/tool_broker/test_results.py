"""A connector's ``ToolResult`` as Anthropic content blocks, and the size cap with its note."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from switchboard.common.mcp_protocol import ToolResult
from switchboard.tool_broker.results import cap_content, content_size, result_content

IMAGE: dict[str, object] = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "A" * 400}}


def test_successful_results_become_blocks() -> None:
    assert result_content(ToolResult(success=True, content="hi")) == (False, [{"type": "text", "text": "hi"}])
    assert result_content(ToolResult(success=True, content="")) == (False, [])
    assert result_content(ToolResult(success=True)) == (False, [])
    blocks = [{"type": "text", "text": "a"}, {"no": "type"}, {"type": 3}, IMAGE]
    assert result_content(ToolResult(success=True, content=blocks)) == (False, [blocks[0], IMAGE])


def test_failures_explain_themselves() -> None:
    assert result_content(ToolResult(success=False, error="boom")) == (True, [{"type": "text", "text": "boom"}])
    assert result_content(ToolResult(success=False)) == (True, [{"type": "text", "text": "the tool failed"}])
    with_blocks = ToolResult(success=False, content=[{"type": "text", "text": "why"}])
    assert result_content(with_blocks) == (True, [{"type": "text", "text": "why"}])


def test_content_that_fits_is_left_alone() -> None:
    content: list[dict[str, object]] = [{"type": "text", "text": "short"}]
    assert cap_content(content, 1000) == (content, False)


def test_the_first_text_block_that_does_not_fit_is_cut_and_a_note_says_so() -> None:
    content: list[dict[str, object]] = [
        {"type": "text", "text": "a" * 300},
        {"type": "text", "text": "b" * 3000},
        {"type": "text", "text": "c"},
    ]
    capped, truncated = cap_content(content, 1000)
    assert truncated and content_size(capped) <= 1000
    first, cut, note = capped
    assert first == content[0] and set(str(cut["text"])) == {"b"}
    assert note["text"] == f"[switchboard: tool result truncated from {content_size(content)} to " \
        f"{content_size([first, cut])} bytes]"  # fmt: skip


def test_blocks_that_cannot_be_cut_are_dropped() -> None:
    capped, truncated = cap_content([IMAGE, {"type": "text", "text": "after"}], 300, "to fit the message bus")
    assert truncated and content_size(capped) <= 300
    assert capped[0] == {"type": "text", "text": "after"}
    assert str(capped[-1]["text"]).endswith("bytes to fit the message bus]")


def test_escaped_and_multibyte_text_is_cut_by_its_encoded_size() -> None:
    capped, _ = cap_content([{"type": "text", "text": 'é"\n' * 1000}], 500)
    assert content_size(capped) <= 500 and len(str(capped[0]["text"])) > 100


@given(
    st.lists(
        st.one_of(
            st.builds(lambda t: {"type": "text", "text": t}, st.text(max_size=400)),
            st.just(IMAGE),
        ),
        max_size=8,
    ),
    st.integers(min_value=200, max_value=3000),
)
def test_capped_content_never_exceeds_the_limit(content: list[dict[str, object]], limit: int) -> None:
    capped, truncated = cap_content(content, limit)
    assert content_size(capped) <= limit
    assert truncated == (content_size(content) > limit)
