"""KV keys of the tool-broker's buckets: any user, server or call id turned into a key NATS accepts, injectively.

KV keys allow only ``[-/_=.a-zA-Z0-9]`` and use ``.`` as the separator that filters match on, so every id is
base64url-encoded (no padding) before it becomes a key part; two ids never share a key.
"""

from __future__ import annotations

import base64

__all__ = ["call_key", "connection_key", "decode_part", "encode_part", "server_key", "user_filter"]

_EMPTY = "="
"""The key part of an empty id: ``=`` is a valid key character that base64url without padding never produces."""


def encode_part(value: str) -> str:
    if not value:
        return _EMPTY
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_part(part: str) -> str:
    if part == _EMPTY:
        return ""
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def server_key(user_id: str, server_id: str) -> str:
    """``<user>.<server>`` in the servers bucket."""
    return f"{encode_part(user_id)}.{encode_part(server_id)}"


def connection_key(user_id: str, connection_id: str) -> str:
    """``<user>.<connection>`` in the connections (presence) bucket."""
    return f"{encode_part(user_id)}.{encode_part(connection_id)}"


def call_key(call_id: str) -> str:
    """``<call>`` in the pending-calls bucket."""
    return encode_part(call_id)


def user_filter(user_id: str) -> str:
    """The watch filter matching every key of one user (``<user>.*``)."""
    return f"{encode_part(user_id)}.*"
