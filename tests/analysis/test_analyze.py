"""`analyze`: the JSON-ready result behind `replybench analyze`, and its terminal table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from analysis import analyze, metrics
from analysis.table import brand_table
from study.errors import StudyError
from tests.analysis.journals import T0, P, R, hours, write_journal

BRANDS = {"kaito": 0.5, "brenner": 6.0, "corvo": None}  # hours to answer; None: never


def study(tmp_path: Path, name: str = "uxa-2026") -> Path:
    probes, replies = [], []
    for brand, delay in BRANDS.items():
        for country in ("DE", "FR"):
            for i in range(6):
                pid = f"{brand}-{country}-{i}"
                handle = f"{brand}_{country.lower()}"
                sent = T0 + hours(3 * i + (country == "FR"))
                slot = "business" if i % 2 else "evening"
                probes.append(P(pid, brand=brand, country=country, handle=handle, slot=slot,
                                sent_at=sent, round=i + 1))  # fmt: skip
                if delay is not None and i != 5:
                    replies.append(R(pid, handle, sent + hours(delay * (i + 1))))
                if brand == "corvo":
                    replies.append(R(pid, handle, sent + hours(0.1), "auto_ack"))
    probes.append(P("kaito-DE-missed", sent_at=None, state="missed"))
    probes.append(P("kaito-DE-failed", sent_at=None, state="failed"))
    write_journal(tmp_path, probes, replies, name=name, last_observation=T0 + hours(200))
    return tmp_path


def test_analyze_returns_the_documented_shape(tmp_path: Path) -> None:
    result = analyze(study(tmp_path), replicates=200)
    assert result["study"] == {
        "name": "uxa-2026",
        "window_hours": 72.0,
        "as_of": "2026-03-10T17:00:00.000Z",
        "probes": 38,
        "planned": 0,
        "sent": 36,
        "open": 0,
        "missed": 1,
        "failed": 1,
        "caught_up": 0,
        "ambiguous_dms": 0,
        "first_sent_at": "2026-03-02T09:00:00.000Z",
        "last_sent_at": "2026-03-03T01:00:00.000Z",
    }
    groups = result["groups"]
    assert list(groups) == ["overall", "brand", "country", "brand_country", "channel", "slot",
                            "scope"]  # fmt: skip
    assert [g["brand"] for g in groups["brand"]] == ["brenner", "corvo", "kaito"]
    assert [(g["brand"], g["country"]) for g in groups["brand_country"]][:2] == [
        ("brenner", "DE"),
        ("brenner", "FR"),
    ]
    assert set(groups["slot"][0]) == {"slot", "probes", "answered", "auto_acks", "open",
        "response_rate", "response_rate_low", "response_rate_high", "median_hours",
        "median_hours_low", "median_hours_high", "answered_within_1h", "answered_within_12h",
        "answered_within_24h", "restricted_mean_hours"}  # fmt: skip
    answer = {"answer_median_hours", "answer_median_hours_low", "answer_median_hours_high",
              "answer_restricted_mean_hours"}  # fmt: skip
    assert set(groups["brand"][0]) == set(groups["slot"][0]) - {"slot"} | {"brand"} | answer
    assert set(groups["overall"][0]) == set(groups["slot"][0]) - {"slot"} | answer
    corvo = groups["brand"][1]
    assert (corvo["probes"], corvo["answered"], corvo["auto_acks"]) == (12, 0, 12)
    assert (corvo["median_hours"], corvo["response_rate"], corvo["restricted_mean_hours"]) == (
        None,
        0.0,
        72.0,
    )
    kaito = groups["brand"][2]
    assert kaito["median_hours"] == 1.5  # 0.5 h times 1..5; 10 of 12 answered
    assert kaito["response_rate"] == 0.8333
    compared = result["comparisons"]
    assert [r["brand"] for r in compared["ranks"]] == ["kaito", "brenner", "corvo"]
    assert [t["tier"] for t in compared["tiers"]] == [1, 2, 3]
    assert [(p["a"], p["b"]) for p in compared["pairwise"]] == [
        ("brenner", "corvo"),
        ("brenner", "kaito"),
        ("corvo", "kaito"),
    ]


def test_floats_are_rounded_and_agree_with_metrics(tmp_path: Path) -> None:
    result = analyze(study(tmp_path), replicates=50)
    table = metrics(tmp_path)
    brand = table[table["grouping"] == "brand"].set_index("brand")
    for row in result["groups"]["brand"]:
        for col in ("response_rate_low", "answered_within_12h", "restricted_mean_hours"):
            assert row[col] == round(float(brand.loc[row["brand"], col]), 4)
    for p in result["comparisons"]["pairwise"]:
        assert p["p"] == float(f"{p['p']:.4g}")
        assert p["chi2"] == round(p["chi2"], 4)


def test_the_same_journal_gives_the_same_bytes(tmp_path: Path) -> None:
    study(tmp_path)
    first = json.dumps(analyze(tmp_path), sort_keys=True)
    assert json.dumps(analyze(tmp_path), sort_keys=True) == first
    assert "NaN" not in first and "Infinity" not in first


def test_as_of_moves_the_cut_off(tmp_path: Path) -> None:
    study(tmp_path)
    early = analyze(tmp_path, as_of=T0 + hours(4), replicates=20)
    assert early["study"]["as_of"] == "2026-03-02T13:00:00.000Z"
    assert early["study"]["sent"] == 12  # probes sent at 0, 1, 3 and 4 hours
    assert early["study"]["planned"] == 24
    before = analyze(tmp_path, as_of=T0 - hours(1), replicates=20)
    assert before["study"]["sent"] == 0 and before["study"]["first_sent_at"] is None
    assert before["groups"]["overall"][0]["probes"] == 0
    assert before["groups"]["overall"][0]["response_rate"] is None
    assert before["groups"]["brand"] == [] and before["comparisons"]["ranks"] == []


def test_errors_are_study_errors(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="no journal yet; run the campaign first"):
        analyze(tmp_path)
    study(tmp_path)
    with pytest.raises(StudyError, match="after the journal's last observation"):
        analyze(tmp_path, as_of=T0 + hours(500))


def test_brand_table_ranks_brands_and_prints_outside_text_literally(tmp_path: Path) -> None:
    result = analyze(study(tmp_path, name="[bold red]Study[/] & Co"), replicates=50)
    console = Console(record=True, width=200)
    console.print(brand_table(result))
    text = console.export_text()
    assert "[bold red]Study[/] & Co: brands ranked" in text
    lines = [line for line in text.splitlines() if "kaito" in line or "corvo" in line]
    assert "kaito" in lines[0] and "corvo" in lines[1]
    assert "1 [1-2]" in lines[0] and "3 [3-3]" in lines[1]
    assert "83% [55%, 95%]" in lines[0]
    assert "0% [0%, 24%]" in lines[1]
