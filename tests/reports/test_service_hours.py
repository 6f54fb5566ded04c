"""Each brand's answers inside and outside its stated service hours: the split, its
statistics against statsmodels, and the company page (issue 13 item 3)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from study.load import load_study
from tests.reports.conftest import Site, build
from tests.reports.studies import example_study

HOURS = "mon-fri 09:00-17:00"


@pytest.fixture(scope="module")
def hours_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The example study with kaito stating weekday office hours in every country."""
    tmp = tmp_path_factory.mktemp("hours")
    study = example_study(tmp / "study")
    targets = study / "targets.csv"
    lines = targets.read_text(encoding="utf-8").splitlines()
    out = [lines[0] + ",service_hours"]
    out += [line + (f",{HOURS}" if line.startswith("kaito,") else ",") for line in lines[1:]]
    targets.write_text("\n".join(out) + "\n", encoding="utf-8")
    return build(study, tmp / "site")


def read(site: Site, name: str) -> dict:
    return json.loads((site.root / "data" / name).read_text(encoding="utf-8"))


def by_hand(site: Site) -> pd.DataFrame:
    """kaito's outcomes with the side worked out apart: the local weekday and hour."""
    study = load_study(site.study)
    zones = {c.code: c.timezone for c in study.countries}
    df = pd.read_csv(site.root / "data" / "outcomes.csv")
    df = df[df["brand"] == "kaito"].copy()
    sent = pd.to_datetime(df["sent_at"], utc=True)
    local = [t.tz_convert(zones[c]) for t, c in zip(sent, df["country"], strict=True)]
    df["inside"] = [t.weekday() < 5 and 9 <= t.hour < 17 for t in local]
    return df


def test_the_split_counts_and_intervals_match_an_independent_computation(hours_site: Site):
    rows = read(hours_site, "breakdowns.json")["brand_service_hours"]
    assert {r["brand"] for r in rows} == {"kaito"}  # only kaito states hours
    df = by_hand(hours_site)
    assert [r["side"] for r in rows] == ["inside", "outside"]
    for r in rows:
        mine = df[df["inside"] == (r["side"] == "inside")]
        answered = int((mine["observed"] == True).sum())  # noqa: E712 (CSV booleans)
        assert (r["probes"], r["answered"]) == (len(mine), answered)
        low, high = proportion_confint(answered, len(mine), method="wilson")
        assert r["response_rate"] == pytest.approx(answered / len(mine), abs=1e-4)
        assert r["response_rate_low"] == pytest.approx(low, abs=1e-4)
        assert r["response_rate_high"] == pytest.approx(high, abs=1e-4)
    assert sum(r["probes"] for r in rows) == len(df) > 0
    assert all(r["probes"] > 0 for r in rows)  # the example sends on both sides


def test_the_design_records_the_stated_hours(hours_site: Site):
    targets = read(hours_site, "design.json")["targets"]
    assert {t["service_hours"] for t in targets if t["brand"] == "kaito"} == {HOURS}
    assert {t["service_hours"] for t in targets if t["brand"] != "kaito"} == {""}


def test_the_company_page_says_it_plainly(hours_site: Site):
    rows = {r["side"]: r for r in read(hours_site, "breakdowns.json")["brand_service_hours"]}
    inside, outside = (f"{100 * rows[s]['response_rate']:.0f}%" for s in ("inside", "outside"))
    page = hours_site.page("companies/kaito.html")
    assert f"Answered inside its stated hours: {inside}; outside: {outside}." in page
    assert f"Germany (x): {HOURS}, local time" in page
    assert "Inside its stated hours</th>" in page and "Outside its stated hours</th>" in page
    assert 'id="service-hours"' not in hours_site.page("companies/brenner.html")


def test_a_study_stating_no_hours_shows_no_such_section(example_site: Site):
    assert read(example_site, "breakdowns.json")["brand_service_hours"] == []
    assert 'id="service-hours"' not in example_site.page("companies/kaito.html")


def test_instants_are_read_in_the_countrys_zone_not_utc(hours_site: Site):
    # Read in UTC, some of kaito's probes would change side: the split above, which
    # matches the local reading, is therefore not a UTC reading.
    df = by_hand(hours_site)
    sent = pd.to_datetime(df["sent_at"], utc=True)
    in_utc = [t.weekday() < 5 and 9 <= t.hour < 17 for t in sent]
    assert list(df["inside"]) != in_utc
