"""The share of answers in the inquiry's language: its counts and intervals against
statsmodels, the language stored by import, and the company page (issue 13 item 2)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis.imports import import_csv
from study.paths import journal_path
from tests.reports.conftest import Site


def shares(site: Site) -> dict:
    data = json.loads((site.root / "data" / "breakdowns.json").read_text(encoding="utf-8"))
    return data["answer_language"]


def test_every_answer_in_english_counts_where_the_inquiry_was_english(example_site: Site):
    # The example's brands answer in English everywhere; the inquiries are in each
    # country's language (study.toml).
    data = shares(example_site)
    outcomes = pd.read_csv(example_site.root / "data" / "outcomes.csv")
    answered = outcomes[outcomes["observed"]].groupby(["brand", "country"]).size()
    assert data["expected"]["DE"] == "de" and data["expected"]["US"] == "en"
    assert len(data["brand_country"]) == len(answered)
    for r in data["brand_country"]:
        n = r["probes"] + r["undetermined"]
        assert n == answered[(r["brand"], r["country"])]
        english = data["expected"][r["country"]] == "en"
        assert r["answered"] == (r["probes"] if english else 0)
        assert r["others"] == ({} if english or not r["probes"] else {"en": r["probes"]})
        if r["probes"]:
            low, high = proportion_confint(r["answered"], r["probes"], method="wilson")
            assert r["response_rate_low"] == pytest.approx(low, abs=1e-4)
            assert r["response_rate_high"] == pytest.approx(high, abs=1e-4)
    assert {r["brand"] for r in data["brand"]} == set(answered.index.get_level_values(0))
    assert data["names"]["en"] == "English"


def test_the_company_page_says_which_language_otherwise(example_site: Site):
    [kaito] = [r for r in shares(example_site)["brand"] if r["brand"] == "kaito"]
    page = example_site.page("companies/kaito.html")
    assert 'id="answer-language"' in page
    assert f"Answered in the inquiry&#39;s language: {100 * kaito['response_rate']:.0f}%" in page
    assert f"otherwise in English ({kaito['others']['en']})." in page


def test_import_stores_each_replys_language(tmp_path: Path):
    csv_path = tmp_path / "results.csv"
    csv_path.write_text(
        "brand,country,channel,sent_at,replied_at,reply_text\n"
        "kaito,DE,x,2026-03-02T10:00:00Z,2026-03-02T11:00:00Z,"
        "Vielen Dank für Ihre Nachricht! Wir melden uns per Direktnachricht bei Ihnen.\n"
        "kaito,US,x,2026-03-02T10:05:00Z,2026-03-02T11:00:00Z,"
        "Thanks for reaching out! Please send us a direct message with your order number.\n"
        "kaito,FR,x,2026-03-02T10:10:00Z,2026-03-02T11:00:00Z,Ok!\n"
        "kaito,GB,x,2026-03-02T10:15:00Z,,\n",
        encoding="utf-8",
    )
    import_csv(tmp_path / "hand", csv_path, 72)
    con = sqlite3.connect(journal_path(tmp_path / "hand"))
    try:
        got = dict(con.execute("SELECT substr(probe_id, 14, 2), language FROM replies"))
    finally:
        con.close()
    assert got == {"DE": "de", "US": "en", "FR": "und"}


def test_a_study_without_a_study_file_shows_no_language_section(hostile_site: Site):
    data = json.loads((hostile_site.root / "data" / "breakdowns.json").read_text("utf-8"))
    assert "answer_language" not in data
