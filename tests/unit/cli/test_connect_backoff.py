"""The reconnect backoff of ``switchboard connect``: 1 s doubling to 30 s, full jitter."""

from __future__ import annotations

import random

import pytest

from switchboard.cli.connect.backoff import Backoff


def test_the_window_doubles_up_to_the_cap() -> None:
    backoff = Backoff(rng=random.Random(7))
    ceilings = []
    for _ in range(8):
        ceilings.append(backoff.ceiling())
        assert 0 <= backoff.next_delay() <= ceilings[-1]
    assert ceilings == [1, 2, 4, 8, 16, 30, 30, 30]


def test_full_jitter_spreads_delays_over_the_whole_window() -> None:
    rng = random.Random(1)
    delays = []
    for _ in range(500):
        backoff = Backoff(base=1.0, cap=30.0, rng=rng)
        backoff.attempt = 10
        delays.append(backoff.next_delay())
    assert min(delays) < 1.5
    assert max(delays) > 28.5
    assert all(0 <= delay <= 30 for delay in delays)


def test_reset_starts_again_from_the_base() -> None:
    backoff = Backoff(rng=random.Random(3))
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.ceiling() == 1
    assert backoff.next_delay() <= 1


def test_long_outages_do_not_overflow() -> None:
    backoff = Backoff()
    backoff.attempt = 10_000
    assert 0 <= backoff.next_delay() <= 30


def test_same_seed_same_delays() -> None:
    first, second = Backoff(rng=random.Random(42)), Backoff(rng=random.Random(42))
    assert [first.next_delay() for _ in range(5)] == [second.next_delay() for _ in range(5)]


@pytest.mark.parametrize(("base", "cap"), [(0, 30), (-1, 30), (5, 1)])
def test_nonsense_bounds_are_refused(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base=base, cap=cap)
