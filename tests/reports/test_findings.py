"""Strengths and weaknesses are sentences written from the numbers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reports.findings import Facts, findings

COUNTRIES = tuple(f"Country {k}" for k in range(17))


def row(rate: float, low: float, high: float, median: float | None = 5.0, **kw: Any) -> dict:
    base = {
        "probes": 51,
        "answered": round(51 * rate),
        "response_rate": rate,
        "response_rate_low": low,
        "response_rate_high": high,
        "median_hours": median,
        "median_hours_low": None if median is None else median / 2,
        "median_hours_high": None if median is None else median * 2,
        "answered_within_1h": 0.2,
    }
    return base | kw


FIELD = row(0.6, 0.56, 0.64, 19.0, probes=492, answered=296)
BASE = Facts(
    brands=10,
    rank={"rank": 5, "rank_low": 3, "rank_high": 7},
    tier=2,
    tiers=4,
    tier_size=3,
    brand=row(0.6, 0.45, 0.73, 19.0),
    field=FIELD,
    countries=17,
    probed=COUNTRIES,
    fastest_in=(),
    all_answered_in=(),
    none_answered_in=(),
    global_in=(),
    global_answered_in=(),
    no_account_in=(),
    slots=(),
    kinds=None,
    quality=None,
)


def test_an_average_brand_has_only_its_full_coverage_to_show() -> None:
    assert findings(BASE) == (["A local account in all 17 countries."], [])


def test_fastest_in_countries_counts_them_and_names_a_few() -> None:
    good, _ = findings(replace(BASE, fastest_in=COUNTRIES[:4]))
    assert (
        "Fastest median time in 4 of 17 countries "
        "(Country 0, Country 1, Country 2 and Country 3)." in good
    )


def test_global_accounts_say_how_many_countries_they_answered() -> None:
    facts = replace(BASE, global_in=COUNTRIES[:9], global_answered_in=COUNTRIES[:3])
    _, bad = findings(facts)
    assert bad == [
        "No local account in 9 countries; the global account answered 3 of them "
        "(Country 0, Country 1 and Country 2)."
    ]
    _, bad = findings(replace(facts, global_in=COUNTRIES[:1], global_answered_in=()))
    assert bad == ["No local account in 1 country; the global account answered 0 of them."]


def test_differences_from_the_field_need_the_whole_interval_on_one_side() -> None:
    good, _ = findings(replace(BASE, brand=row(0.88, 0.77, 0.94, 0.7)))
    assert good[0] == (
        "Responsive: answered 45 of 51 probes (88%, 95% interval 77\u201394%) against the "
        "field's 60%."
    )
    assert any(s.startswith("Quick: median time to response 0.7 h") for s in good)
    _, bad = findings(replace(BASE, brand=row(0.08, 0.03, 0.2, None)))
    assert "Often silent: answered 4 of 51 probes (8%, 95% interval 3\u201320%)" in bad[0]
    assert "Slow: median time to response not reached (field: 19.0 h)." in bad
    good, bad = findings(replace(BASE, brand=row(0.66, 0.55, 0.75, 25.0)))
    assert not any(s.startswith(("Responsive", "Often silent")) for s in good + bad)


def test_tiers_slots_kinds_and_quality() -> None:
    slots = (
        ("business-hours", row(0.9, 0.7, 0.97, probes=17, answered=15)),
        ("weekend", row(0.4, 0.2, 0.6, probes=17, answered=7)),
    )
    kinds = {"responses": 20, "redirect": 8, "auto_ack_only": 2}
    quality = {
        "probes": 12,
        "satisfaction_mean": 4.3,
        "satisfaction_low": 3.9,
        "satisfaction_high": 4.7,
        "answered_yes": 0.75,
    }
    facts = replace(BASE, tier=1, tier_size=1, slots=slots, kinds=kinds, quality=quality)
    good, bad = findings(facts)
    assert good[0] == "Alone in the top tier; rank 5 of 10 (95% interval 3\u20137)."
    assert (
        "Uneven across the week: answered 40% of weekend probes (7 of 17) against 90% of "
        "business-hours probes." in bad
    )
    assert '8 of 20 responses only asked to move to private messages ("please DM us").' in bad
    assert "2 probes got an automatic acknowledgement and no answer." in bad
    assert (
        "Helpful answers: mean satisfaction 4.3 of 5 over 12 rated responses, 95% interval "
        "3.9\u20134.7; 75% fully answered the question." in good
    )
    _, bad = findings(replace(BASE, tier=4))
    assert bad == ["In the bottom tier (tier 4 of 4); rank 5 of 10 (95% interval 3\u20137)."]


def test_channels_are_uneven_only_when_their_intervals_do_not_overlap() -> None:
    x = row(0.83, 0.44, 0.97, probes=6, answered=5)
    mastodon = row(0.0, 0.0, 0.39, probes=6, answered=0)
    _, bad = findings(replace(BASE, channels=(("X", x), ("Mastodon", mastodon))))
    assert (
        "Uneven across channels: answers on X (83%, 5 of 6; 95% interval 44\u201397%) but "
        "never on Mastodon (0%, 0 of 6; 95% interval 0\u201339%)." in bad
    )
    close = row(0.33, 0.1, 0.7, probes=6, answered=2)
    good, bad = findings(replace(BASE, channels=(("X", x), ("Mastodon", close))))
    assert not any("channels" in s for s in good + bad)
    steady = (("X", row(0.9, 0.7, 0.97)), ("Bluesky", row(0.85, 0.6, 0.95)))
    good, _ = findings(replace(BASE, channels=steady))
    assert "Consistent across channels: at least 85% answered on X and Bluesky." in good
    good, bad = findings(replace(BASE, channels=(("X", x),)))
    assert not any("channels" in s for s in good + bad)
