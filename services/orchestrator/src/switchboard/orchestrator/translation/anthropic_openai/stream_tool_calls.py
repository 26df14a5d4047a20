"""Streamed OpenAI tool calls, reassembled from ``delta.tool_calls`` fragments into one record per call.

Providers differ in how they fragment calls: ids and names only in the first fragment (OpenAI), ids missing
(some local servers), every call under ``index`` 0 but with distinct ids (some Gemini-compatible servers), no
``index`` at all, whole arguments in one fragment, or arguments sent as an object instead of a string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .ids import anthropic_tool_use_id
from .response import tool_input

__all__ = ["StreamedToolCall", "StreamedToolCalls"]


class StreamedToolCall:
    """One call's id, name and argument fragments, and how much of them has been sent to the client."""

    def __init__(self, openai_id: str | None) -> None:
        self.openai_id = openai_id
        self.name = ""
        self.closed = False
        """Its ``content_block_stop`` was sent: later fragments have nowhere to go."""
        self._parts: list[str] = []
        self._sent = 0
        self._complete = False

    @property
    def arguments(self) -> str:
        return "".join(self._parts)

    def add_arguments(self, fragment: str) -> None:
        # Nothing valid can follow a complete JSON object, and some servers repeat the whole arguments at the
        # end: dropping what arrives after completion keeps the call's input intact.
        if fragment and not self.closed and not self.is_complete():
            self._parts.append(fragment)

    def take_unsent(self) -> str:
        """The fragments not yet sent, joined, and now counted as sent."""
        unsent = "".join(self._parts[self._sent :])
        self._sent = len(self._parts)
        return unsent

    def is_complete(self) -> bool:
        """The arguments so far are a whole JSON object, so the call's block can close without losing input."""
        if not self._complete and self._ends_with_brace():
            self._complete = isinstance(_object_or_none(self.arguments), dict)
        return self._complete

    def is_well_formed(self) -> bool:
        """Named, with arguments that make an ``input`` object (blank arguments count as ``{}``)."""
        return bool(self.name) and tool_input(self.arguments) is not None

    def is_blank(self) -> bool:
        """Neither name nor arguments: a stray empty fragment some servers send, not a call."""
        return not self.name and not self.arguments.strip()

    def _ends_with_brace(self) -> bool:
        for part in reversed(self._parts):
            stripped = part.rstrip()
            if stripped:
                return stripped.endswith("}")
        return False


class StreamedToolCalls:
    """The calls of one response, in the order their first fragment arrived."""

    def __init__(self) -> None:
        self.calls: list[StreamedToolCall] = []
        self._by_index: dict[int, StreamedToolCall] = {}
        self._by_id: dict[str, StreamedToolCall] = {}
        self._used_ids: set[str] = set()

    def add(self, fragment: Mapping[str, Any]) -> StreamedToolCall:
        """Apply one ``delta.tool_calls[]`` entry and return the call it belongs to."""
        call = self._route(fragment)
        function = fragment.get("function")
        function = function if isinstance(function, Mapping) else {}
        name = function.get("name")
        if isinstance(name, str) and name and not call.name:
            call.name = name  # set once: some servers repeat the name in every fragment
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):
            arguments = json.dumps(arguments, ensure_ascii=False)
        if isinstance(arguments, str):
            call.add_arguments(arguments)
        return call

    def tool_use_id(self, call: StreamedToolCall) -> str:
        """The call's ``toolu_…`` id, unique within the message even when the provider repeats ids."""
        tool_use_id = anthropic_tool_use_id(call.openai_id)
        if tool_use_id in self._used_ids:
            tool_use_id = anthropic_tool_use_id(None)
        self._used_ids.add(tool_use_id)
        return tool_use_id

    def _route(self, fragment: Mapping[str, Any]) -> StreamedToolCall:
        index = fragment.get("index")
        raw_id = fragment.get("id")
        call_id = raw_id if isinstance(raw_id, str) and raw_id else None
        if isinstance(index, int) and not isinstance(index, bool):
            call = self._by_index.get(index)
            if call is None or (call_id is not None and call.openai_id not in (None, call_id)):
                call = self._new(call_id)
                self._by_index[index] = call
        elif call_id is not None:
            call = self._by_id.get(call_id) or self._new(call_id)
        else:
            call = self.calls[-1] if self.calls else self._new(None)  # no index, no id: a continuation
        if call_id is not None and call.openai_id is None:
            call.openai_id = call_id
            self._by_id[call_id] = call
        return call

    def _new(self, call_id: str | None) -> StreamedToolCall:
        call = StreamedToolCall(call_id)
        self.calls.append(call)
        if call_id is not None:
            self._by_id[call_id] = call
        return call


def _object_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
