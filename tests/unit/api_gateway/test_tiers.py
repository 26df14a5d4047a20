"""``load_tiers``: JSON overrides merged field by field over the default tiers, with clear errors."""

from __future__ import annotations

import pytest

from switchboard.api_gateway.ratelimit.tiers import DEFAULT_TIER, DEFAULT_TIERS, TierLimits, load_tiers


@pytest.mark.parametrize("override", [None, "", "  "])
def test_no_override_gives_the_defaults(override: str | None) -> None:
    assert load_tiers(override) == DEFAULT_TIERS


def test_the_defaults_are_the_documented_ones() -> None:
    assert DEFAULT_TIER == "free"
    assert DEFAULT_TIERS["free"] == TierLimits(requests_per_minute=10, requests_per_day=100, tokens_per_minute=20_000)
    assert DEFAULT_TIERS["starter"] == TierLimits(
        requests_per_minute=60, requests_per_day=1000, tokens_per_minute=100_000
    )
    assert DEFAULT_TIERS["pro"] == TierLimits(requests_per_minute=300, tokens_per_minute=1_000_000)
    assert DEFAULT_TIERS["enterprise"].unlimited
    assert not DEFAULT_TIERS["pro"].unlimited


def test_an_override_changes_only_the_fields_it_names() -> None:
    tiers = load_tiers('{"free": {"requests_per_minute": 5}}')
    assert tiers["free"] == TierLimits(requests_per_minute=5, requests_per_day=100, tokens_per_minute=20_000)
    assert tiers["starter"] == DEFAULT_TIERS["starter"]


def test_null_lifts_a_limit() -> None:
    assert load_tiers('{"free": {"requests_per_day": null}}')["free"].requests_per_day is None


def test_a_new_tier_starts_unlimited() -> None:
    tiers = load_tiers('{"team": {"requests_per_minute": 120, "tokens_per_minute": 200000}}')
    assert tiers["team"] == TierLimits(requests_per_minute=120, tokens_per_minute=200_000)
    assert set(tiers) == {*DEFAULT_TIERS, "team"}


def test_loading_does_not_change_the_defaults() -> None:
    load_tiers('{"free": {"requests_per_minute": 1}}')
    assert DEFAULT_TIERS["free"].requests_per_minute == 10


def test_tier_limits_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        DEFAULT_TIERS["free"].requests_per_minute = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("{free: 5}", "not valid JSON"),
        ('["free"]', "must be a JSON object"),
        ('{"free": 5}', "tier 'free' must be an object"),
        ('{"": {}}', "cannot be empty"),
        ('{"free": {"requests_per_minute": -1}}', r"tier 'free' is invalid: requests_per_minute: .*greater than"),
        ('{"free": {"requests_per_minute": "5"}}', "requests_per_minute: Input should be a valid integer"),
        ('{"free": {"requests_per_minute": true}}', "requests_per_minute: Input should be a valid integer"),
        ('{"free": {"requests_per_hour": 5}}', "requests_per_hour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_override_is_a_clear_value_error(override: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        load_tiers(override)
    assert "SWITCHBOARD_TIERS" in str(caught.value)
