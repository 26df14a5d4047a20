"""OpenAI ``finish_reason`` → Anthropic ``stop_reason`` and ``stop_sequence`` (one mapping for both modes).

Which stop string fired: OpenAI strips it from the output and reports only ``finish_reason: "stop"``, the same as
for a natural end, so it cannot be recovered from the text. Only a provider that says which string matched gives
``stop_sequence``: vLLM's ``choices[0].stop_reason`` and SGLang's ``matched_stop`` (a string; an int there is an
end-of-sequence token id). A provider configured to keep the stop string in the output (vLLM
``include_stop_str_in_output``) is recognised too: generation halts as soon as a stop string appears, so output
*ending* in a requested one under ``"stop"`` means it fired. Anything else reports ``end_turn``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["anthropic_stop"]

_BY_FINISH_REASON = {
    "length": "max_tokens",
    "max_tokens": "max_tokens",
    "content_filter": "refusal",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
}


def anthropic_stop(
    finish_reason: str | None,
    *,
    has_tool_use: bool,
    content_text: str,
    stop_sequences: Sequence[str],
    provider_stop: str | int | None,
) -> tuple[str, str | None]:
    """``(stop_reason, stop_sequence)`` for a finished choice.

    ``has_tool_use`` wins over any finish reason: Claude Code ends the turn instead of running the tools when
    ``stop_reason`` is not ``tool_use`` (P10), and some providers say ``"stop"`` for tool calls. Conversely,
    ``tool_calls`` with no translated ``tool_use`` block (e.g. the provider's tool parser failed and left text)
    is ``end_turn``, since ``tool_use`` with nothing to run would leave the client waiting for a tool result.
    ``None`` (the stream ended without a finish reason) is ``end_turn``.
    """
    if has_tool_use:
        return "tool_use", None
    mapped = _BY_FINISH_REASON.get(finish_reason or "")
    if mapped is not None and mapped != "tool_use":
        return mapped, None
    if finish_reason == "stop":
        matched = _matched_stop_sequence(content_text, stop_sequences, provider_stop)
        if matched is not None:
            return "stop_sequence", matched
    return "end_turn", None


def _matched_stop_sequence(text: str, stop_sequences: Sequence[str], provider_stop: str | int | None) -> str | None:
    if isinstance(provider_stop, str) and provider_stop in stop_sequences:
        return provider_stop
    # The longest match first: with ["END", "THE END"], output ending "THE END" stopped on "THE END".
    for candidate in sorted((s for s in stop_sequences if s), key=len, reverse=True):
        if text.endswith(candidate):
            return candidate
    return None
