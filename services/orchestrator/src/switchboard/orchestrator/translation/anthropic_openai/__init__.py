"""Anthropic Messages ⇄ OpenAI Chat Completions.

- ``request``: an Anthropic request body → an OpenAI ``/chat/completions`` body.
- ``response``: an OpenAI completion → an Anthropic ``Message``.
- ``stream``: OpenAI ``chat.completion.chunk``s → the exact Anthropic SSE event sequence.
- ``errors``: an OpenAI-style error response → Anthropic status, ``error.type`` and message.
- ``ids``, ``signatures``, ``stop_reasons``, ``usage``: mappings the others share.
"""
