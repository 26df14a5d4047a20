"""Ids become subject tokens: safe ones unchanged, any other sanitised and made unique."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from switchboard.common.subjects import Subjects, subject_token


def test_safe_ids_stay_readable() -> None:
    assert subject_token("alice") == "alice"
    assert subject_token("req_01HZX-9") == "req_01HZX-9"


def test_ids_that_sanitise_alike_stay_apart() -> None:
    assert subject_token("a.b") != subject_token("a_b") == "a_b"
    assert subject_token("a.b") != subject_token("a*b")
    assert subject_token("a.b").startswith("a_b-x")
    assert Subjects().deliver_tool_call("a.b", "fs") != Subjects().deliver_tool_call("a_b", "fs")


@given(st.text(max_size=300))
def test_every_token_is_one_nats_token(value: str) -> None:
    token = subject_token(value)
    assert token and all(character.isascii() and (character.isalnum() or character in "_-") for character in token)
    assert len(token) <= 128


@given(st.text(max_size=50), st.text(max_size=50))
def test_distinct_ids_give_distinct_tokens(first: str, second: str) -> None:
    if first != second:
        assert subject_token(first) != subject_token(second)
