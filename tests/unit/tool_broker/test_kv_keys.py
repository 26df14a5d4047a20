"""KV keys: every id becomes a valid key, and different ids never share one."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from switchboard.tool_broker.kv_keys import call_key, connection_key, decode_part, encode_part, server_key, user_filter

VALID_KEY = re.compile(r"^[-/_=.a-zA-Z0-9]+$")


@given(st.text())
def test_any_id_round_trips_through_a_valid_key_part(value: str) -> None:
    part = encode_part(value)
    assert VALID_KEY.fullmatch(part) and "." not in part
    assert decode_part(part) == value


def test_ids_that_sanitise_alike_get_different_keys() -> None:
    assert server_key("a.b", "s") != server_key("a_b", "s")
    assert call_key("") == "=" and decode_part("=") == ""


def test_a_users_filter_matches_only_their_keys() -> None:
    user = encode_part("alice")
    assert user_filter("alice") == f"{user}.*"
    assert server_key("alice", "fs").startswith(user + ".")
    assert connection_key("alice", "mcpc_1").startswith(user + ".")
