"""OpenAI ``chat.completion.chunk``s → the exact Anthropic SSE event sequence, as ``(event name, data)`` pairs.

Anthropic content blocks are strictly sequential (start, deltas, stop; indices 0, 1, 2, … never reused), while an
OpenAI stream can interleave reasoning, text and the argument fragments of several tool calls. So one block is
open at a time and streamed live; whatever belongs elsewhere waits in arrival order. Text and thinking can be
closed at any moment, a tool call only once its arguments form a whole JSON object (closing it earlier would
strand its later fragments, P4); at :meth:`StreamTranslator.finish` everything still waiting is flushed. Text or
reasoning that is only whitespace never opens a block: a blank block replayed by Claude Code fails (P8).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from switchboard.common.ids import new_message_id
from switchboard.orchestrator.token_estimate import estimate_text_tokens

from .errors import to_anthropic_error
from .response import provider_stop, reasoning_text
from .signatures import ThinkingSigner
from .stop_reasons import anthropic_stop
from .stream_tool_calls import StreamedToolCall, StreamedToolCalls
from .usage import anthropic_usage

__all__ = ["Event", "StreamTranslator"]

Event = tuple[str, dict[str, Any]]
_Key = str | StreamedToolCall  # "text", "thinking" or a tool call: what a block carries
_STATUS_BY_TYPE = {"rate_limit_error": 429, "rate_limit_exceeded": 429, "overloaded_error": 529, "timeout_error": 504}


class StreamTranslator:
    """Translates one streamed completion; feed it every parsed chunk, then call ``finish`` (or ``error``)."""

    def __init__(
        self, *, requested_model: str, stop_sequences: Sequence[str], signer: ThinkingSigner, input_estimate: int
    ) -> None:
        self._model = requested_model
        self._stop_sequences = list(stop_sequences)
        self._signer = signer
        self._input_estimate = max(1, input_estimate)  # P21: message_start must carry a real input count
        self._started = self._done = self._refused = False
        self._open: _Key | None = None
        self._index = -1
        self._waiting: list[_Key] = []
        self._pending: dict[str, list[str]] = {"text": [], "thinking": []}
        self._thinking: list[str] = []  # the open thinking block's text, signed when it closes
        self._tools = StreamedToolCalls()
        self._output: list[str] = []
        self._text_tail = ""
        self._finish_reason: str | None = None
        self._provider_stop: str | int | None = None
        self._openai_usage: Mapping[str, Any] | None = None
        self._stop_reason: str | None = None
        self._usage = anthropic_usage(None, input_estimate=self._input_estimate)
        self._tool_use_names: list[str] = []

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    @property
    def usage(self) -> dict[str, Any]:
        """The usage a client accumulating the events ends with (``message_start`` overwritten by the delta)."""
        return dict(self._usage)

    @property
    def tool_use_names(self) -> list[str]:
        return list(self._tool_use_names)

    def start(self) -> list[Event]:
        """The one ``message_start`` (P7); ``[]`` once sent. ``feed`` and ``finish`` send it if needed."""
        if self._started:
            return []
        self._started = True
        message: dict[str, Any] = {
            "id": new_message_id(),
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self.usage,
        }
        return [("message_start", {"type": "message_start", "message": message})]

    def feed(self, chunk: Mapping[str, Any]) -> list[Event]:
        """The events for one chunk; a chunk carrying ``error`` ends the stream with an ``error`` event."""
        if self._done:
            return []
        error = chunk.get("error")
        if error is not None:
            return self.error(error if isinstance(error, Mapping) else {"message": str(error)})
        events = self.start()
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):  # the last one wins: some servers send running totals in every chunk
            self._openai_usage = usage
        choices = chunk.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
            events.extend(self._choice(choices[0]))
        return events

    def finish(self) -> list[Event]:
        """Close every block, then ``message_delta`` (stop reason, cumulative usage) and ``message_stop``.

        Called at ``[DONE]`` or the end of the body, not at ``finish_reason``: usage arrives after it.
        """
        if self._done:
            return []
        events = self.start() + self._drain()
        broken = [call for call in self._tools.calls if not (call.is_well_formed() or call.is_blank())]
        if broken and self._finish_reason != "length":
            return events + self.error("upstream provider returned malformed tool arguments")
        generated = "".join(self._output) + "".join(call.arguments for call in self._tools.calls)
        self._usage = anthropic_usage(
            self._openai_usage,
            input_estimate=self._input_estimate,
            output_estimate=estimate_text_tokens(generated),
        )
        stop_reason, stop_sequence = anthropic_stop(
            "content_filter" if self._refused else self._finish_reason,
            # A call cut off by max_tokens is not one to run: Anthropic says max_tokens then, too.
            has_tool_use=bool(self._tool_use_names) and not broken,
            content_text=self._text_tail,
            stop_sequences=self._stop_sequences,
            provider_stop=self._provider_stop,
        )
        self._stop_reason, self._done = stop_reason, True
        # Usage is cumulative: resend input and cache counts only when the provider reported them.
        usage = self.usage if self._openai_usage is not None else {"output_tokens": self._usage["output_tokens"]}
        delta = {"stop_reason": stop_reason, "stop_sequence": stop_sequence}
        events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    def error(self, error: str | Mapping[str, Any], *, error_type: str = "api_error") -> list[Event]:
        """An ``error`` event that ends the stream: nothing, not even ``message_stop``, follows it.

        ``error`` is our own message (sent as ``error_type``) or the provider's in-stream error object
        (``{"message", "type", "code"}``), which is mapped and cleaned as the provider's HTTP errors are.
        """
        if self._done:
            return []
        self._done = True
        message = error
        if isinstance(error, Mapping):
            body = json.dumps({"error": dict(error)}, default=str).encode()
            _, error_type, message, _ = to_anthropic_error(_status_of(error), body, {})
        return [("error", {"type": "error", "error": {"type": error_type, "message": message}})]

    def _choice(self, choice: Mapping[str, Any]) -> list[Event]:
        delta = choice.get("delta")
        delta = delta if isinstance(delta, Mapping) else {}
        events = self._add_text("thinking", reasoning_text(delta))
        content = delta.get("content")
        events += self._add_text("text", content if isinstance(content, str) else "")
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            self._refused = True
            events += self._add_text("text", refusal)
        fragments = delta.get("tool_calls")
        for fragment in fragments if isinstance(fragments, list) else ():
            if isinstance(fragment, Mapping):
                events += self._add_tool_fragment(fragment)
        if isinstance(choice.get("finish_reason"), str):
            self._finish_reason = choice["finish_reason"]
        self._provider_stop = provider_stop(choice) or self._provider_stop
        return events

    def _add_text(self, kind: str, piece: str) -> list[Event]:
        if not piece:
            return []
        self._output.append(piece)
        if kind == "text" and self._stop_sequences:
            keep = max(map(len, self._stop_sequences))
            self._text_tail = (self._text_tail + piece)[-keep:]
        self._pending[kind].append(piece)
        if self._open != kind and kind not in self._waiting and not piece.isspace():
            self._waiting.append(kind)
        return self._pump()

    def _add_tool_fragment(self, fragment: Mapping[str, Any]) -> list[Event]:
        call = self._tools.add(fragment)
        if call is not self._open and not call.closed and call not in self._waiting:
            self._waiting.append(call)
        return self._pump()

    def _pump(self) -> list[Event]:
        """Send what the open block has pending; move on to what waits while the open block may close."""
        events: list[Event] = []
        while True:
            if self._open is not None:
                events += self._flush_open()
                closable = not isinstance(self._open, StreamedToolCall) or self._open.is_complete()
                if not self._waiting or not closable:
                    return events
                events += self._close_open()
            key = self._next_openable()
            if key is None:
                return events
            events += self._open_block(key)

    def _drain(self) -> list[Event]:
        """At the end: close the open block, then open, fill and close each waiting one in order."""
        events: list[Event] = []
        while self._open is not None:
            events += self._flush_open() + self._close_open()
            key = self._next_openable()
            if key is not None:
                events += self._open_block(key)
        return events

    def _next_openable(self) -> _Key | None:
        # A tool call cannot start before its name is known; text and thinking always can.
        for key in self._waiting:
            if not isinstance(key, StreamedToolCall) or key.name:
                self._waiting.remove(key)
                return key
        return None

    def _open_block(self, key: _Key) -> list[Event]:
        self._open, self._index = key, self._index + 1
        block: dict[str, Any]
        if isinstance(key, StreamedToolCall):
            # Arguments go in input_json_delta events only: Claude Code ignores the start's input (P3).
            block = {"type": "tool_use", "id": self._tools.tool_use_id(key), "name": key.name, "input": {}}
            self._tool_use_names.append(key.name)
        elif key == "thinking":
            block = {"type": "thinking", "thinking": "", "signature": ""}
        else:
            block = {"type": "text", "text": ""}
        return [("content_block_start", {"type": "content_block_start", "index": self._index, "content_block": block})]

    def _flush_open(self) -> list[Event]:
        delta: dict[str, Any]
        if isinstance(self._open, StreamedToolCall):
            fragment = self._open.take_unsent()
            delta = {"type": "input_json_delta", "partial_json": fragment}
        else:
            kind = str(self._open)
            fragment = "".join(self._pending[kind])
            self._pending[kind].clear()
            if kind == "thinking":
                self._thinking.append(fragment)
                delta = {"type": "thinking_delta", "thinking": fragment}
            else:
                delta = {"type": "text_delta", "text": fragment}
        if not fragment:
            return []
        return [("content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": delta})]

    def _close_open(self) -> list[Event]:
        events: list[Event] = []
        if self._open == "thinking":
            signature = {"type": "signature_delta", "signature": self._signer.sign("".join(self._thinking))}
            events.append(
                ("content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": signature})
            )
            self._thinking.clear()
        elif isinstance(self._open, StreamedToolCall):
            self._open.closed = True
        self._open = None
        events.append(("content_block_stop", {"type": "content_block_stop", "index": self._index}))
        return events


def _status_of(error: Mapping[str, Any]) -> int:
    """The HTTP status an in-stream error stands for: its ``code`` (LiteLLM sends the status there), else its type."""
    code = error.get("code")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 600:
        return code
    return _STATUS_BY_TYPE.get(str(error.get("type")), 500)
