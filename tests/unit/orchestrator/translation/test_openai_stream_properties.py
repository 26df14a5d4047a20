"""Properties of the stream translation: however a provider fragments and interleaves, nothing is lost or reordered.

For any argument objects of 1 to 3 calls, any split of each serialisation into fragments (empty ones included) and
any interleaving of the calls' fragments, the ``input_json_delta``s of each block concatenate to exactly that
call's object, blocks come in the order the calls began, and the stream passes the strict grammar check (which
also replays it through the SDK's accumulator). The same for any split of text and reasoning.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from support.anthropic_stream_grammar import assert_valid_anthropic_stream
from support.openai_chunks import SIGNER, chunk, run

SETTINGS = settings(max_examples=200, deadline=None)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=5)


@st.composite
def split(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` cut at any points, duplicates allowed (so some fragments are empty, as providers send them)."""
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


@st.composite
def serialised(draw: st.DrawFn, value: dict[str, Any]) -> str:
    indent = draw(st.sampled_from([None, 0, 2]))
    return json.dumps(value, ensure_ascii=draw(st.booleans()), indent=indent)


@st.composite
def interleaved_calls(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(objects, fragments)``: each call's first fragment names it; the rest carry only index and arguments."""
    objects = draw(st.lists(json_objects, min_size=1, max_size=3))
    queues: list[list[dict[str, Any]]] = []
    for index, value in enumerate(objects):
        parts = draw(split(draw(serialised(value))))
        function = {"name": f"tool_{index}", "arguments": parts[0]}
        head = {"index": index, "id": f"call_{index}", "type": "function", "function": function}
        queues.append([head, *({"index": index, "function": {"arguments": part}} for part in parts[1:])])
    order = draw(st.permutations([i for i, queue in enumerate(queues) for _ in queue]))
    return objects, [queues[i].pop(0) for i in order]


@SETTINGS
@given(interleaved_calls())
def test_interleaved_argument_fragments_reassemble_to_the_original_objects(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    objects, fragments = case
    events = run([*(chunk(tool_calls=[f]) for f in fragments), chunk(finish="tool_calls")])[0]
    message = assert_valid_anthropic_stream(events)
    started = list(dict.fromkeys(f["index"] for f in fragments))  # calls in the order they began
    assert [block["name"] for block in message["content"]] == [f"tool_{i}" for i in started]
    assert [block["input"] for block in message["content"]] == [objects[i] for i in started]
    per_block: dict[int, str] = {}
    for name, data in events:
        if name == "content_block_delta":
            per_block[data["index"]] = per_block.get(data["index"], "") + data["delta"]["partial_json"]
    for index, call in enumerate(started):
        assert json.loads(per_block.get(index) or "{}") == objects[call]
    assert message["stop_reason"] == "tool_use"


@SETTINGS
@given(st.data(), st.text(), st.text())
def test_any_split_of_reasoning_and_text_reassembles(data: st.DataObject, reasoning: str, text: str) -> None:
    chunks = [chunk(reasoning_content=part) for part in data.draw(split(reasoning))]
    chunks += [chunk(content=part) for part in data.draw(split(text))]
    message = assert_valid_anthropic_stream(run([*chunks, chunk(finish="stop")])[0])
    expected: list[dict[str, Any]] = []
    if reasoning.strip():
        expected.append({"type": "thinking", "thinking": reasoning, "signature": SIGNER.sign(reasoning)})
    if text.strip():  # blank text never becomes a block (P8)
        expected.append({"type": "text", "text": text})
    assert message["content"] == expected


@st.composite
def mixed_stream(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Reasoning, text and tool call fragments interleaved in any way that keeps each one's own order.

    Calls may be cut short (as by ``max_tokens``), and their name may come late or never.
    """
    queues: list[list[dict[str, Any]]] = []
    for index, value in enumerate(draw(st.lists(json_objects, max_size=3))):
        parts = draw(split(json.dumps(value)))
        queue: list[dict[str, Any]] = [
            {"tool_calls": [{"index": index, "function": {"arguments": part}}]}
            for part in parts[: draw(st.integers(min_value=0, max_value=len(parts)))]
        ]
        if draw(st.booleans()):
            header = {"tool_calls": [{"index": index, "id": f"c{index}", "function": {"name": f"t{index}"}}]}
            queue.insert(draw(st.integers(min_value=0, max_value=len(queue))), header)
        queues.append(queue)
    queues.append([{"reasoning_content": part} for part in draw(st.lists(st.text(max_size=5), max_size=4))])
    queues.append([{"content": part} for part in draw(st.lists(st.text(max_size=5), max_size=4))])
    order = draw(st.permutations([i for i, queue in enumerate(queues) for _ in queue]))
    chunks = [chunk(**queues[i].pop(0)) for i in order]
    return [*chunks, chunk(finish=draw(st.sampled_from(["stop", "length", "tool_calls", None])))]


@SETTINGS
@given(mixed_stream())
def test_any_mix_of_fragments_yields_a_grammatical_stream(chunks: list[dict[str, Any]]) -> None:
    """Unfinished or nameless calls may end the stream in an ``error`` event, but never break the grammar."""
    assert_valid_anthropic_stream(run(chunks)[0])
