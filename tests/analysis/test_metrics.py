"""Kaplan-Meier statistics in DuckDB, by eye and against lifelines and statsmodels."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time
from statsmodels.stats.proportion import proportion_confint

from analysis import km_curves, metrics
from analysis.metrics import (
    GROUPINGS,
    KEYS,
    brand_curves,
    create_group_counts,
    create_km_steps,
    group_metrics,
)
from tests.analysis.journals import T0, P, R, hours, outcomes_db, write_journal

# kaito: responses at 1 and 3, 3 hours; censored at 2 and 4 hours (still open at as-of) and
# at the 72-hour window. brenner: one response at 0.5 hours, one censored at the window.
HAND = [
    {"duration_hours": 1.0, "observed": True},
    {"duration_hours": 2.0, "observed": False, "auto_ack": True},
    {"duration_hours": 3.0, "observed": True},
    {"duration_hours": 3.0, "observed": True, "country": "FR"},
    {"duration_hours": 4.0, "observed": False},
    {"duration_hours": 72.0, "observed": False},
    {"brand": "brenner", "duration_hours": 0.5, "observed": True},
    {"brand": "brenner", "duration_hours": 72.0, "observed": False},
]


def steps(con: object, grouping: str) -> list[tuple[object, ...]]:
    return con.execute(  # type: ignore[attr-defined, no-any-return]
        "SELECT key, time_hours, at_risk, responses, survival, drop, greenwood FROM km_steps"
        " WHERE grouping = ? ORDER BY key, time_hours",
        [grouping],
    ).fetchall()


def test_group_counts_sql_by_hand() -> None:
    con = outcomes_db(HAND)
    create_group_counts(con)
    got = con.execute(
        "SELECT grouping, key, brand, country, probes, answered, auto_acks FROM group_counts"
        " WHERE grouping IN ('overall', 'brand', 'brand_country') ORDER BY grouping, key"
    ).fetchall()
    assert got == [
        ("brand", "brenner", "brenner", None, 2, 1, 0),
        ("brand", "kaito", "kaito", None, 6, 3, 1),
        ("brand_country", "brenner\x1fDE", "brenner", "DE", 2, 1, 0),
        ("brand_country", "kaito\x1fDE", "kaito", "DE", 5, 2, 1),
        ("brand_country", "kaito\x1fFR", "kaito", "FR", 1, 1, 0),
        ("overall", "", None, None, 8, 4, 1),
    ]
    names = con.execute("SELECT DISTINCT grouping FROM group_counts").fetchall()
    assert sorted(n for (n,) in names) == sorted(name for name, _ in GROUPINGS)


def test_km_steps_sql_by_hand() -> None:
    con = outcomes_db(HAND)
    create_km_steps(con)
    got = steps(con, "brand")
    want = [
        ("brenner", 0.5, 2, 1, 1 / 2, 1 / 2, 1 / 2),
        ("kaito", 1.0, 6, 1, 5 / 6, 1 / 6, 1 / 30),  # Greenwood: d / (n (n - d))
        ("kaito", 3.0, 4, 2, 5 / 12, 5 / 12, 1 / 30 + 2 / 8),
    ]
    assert [g[:4] for g in got] == [w[:4] for w in want]
    assert np.allclose([g[4:] for g in got], [w[4:] for w in want], rtol=1e-12)
    overall = steps(con, "overall")
    assert [(g[0], g[1], g[2], g[3]) for g in overall] == [
        ("", 0.5, 8, 1),
        ("", 1.0, 7, 1),
        ("", 3.0, 5, 2),
    ]
    assert np.allclose([g[4] for g in overall], [7 / 8, 6 / 8, 6 / 8 * 3 / 5])
    assert {g[0] for g in steps(con, "brand_country")} == {"brenner\x1fDE", "kaito\x1fDE",
                                                           "kaito\x1fFR"}  # fmt: skip


def test_group_metrics_sql_by_hand() -> None:
    con = outcomes_db(HAND)
    create_km_steps(con)
    df = group_metrics(con, window_hours=72.0)
    assert list(df["grouping"].unique()) == [name for name, _ in GROUPINGS]
    brand = df[df["grouping"] == "brand"].set_index("brand")
    kaito, brenner = brand.loc["kaito"], brand.loc["brenner"]
    assert (kaito["probes"], kaito["answered"], kaito["auto_acks"]) == (6, 3, 1)
    assert kaito["response_rate"] == 0.5
    # Wilson 95% for 3 of 6: 0.5 -+ 1.96 sqrt(1/24 + 1.96^2/144) / (1 + 1.96^2/6)
    assert kaito["response_rate_low"] == pytest.approx(0.1876, abs=1e-4)
    assert kaito["response_rate_high"] == pytest.approx(0.8124, abs=1e-4)
    assert kaito["median_hours"] == 3.0
    assert kaito["answered_within_1h"] == pytest.approx(1 / 6)
    assert kaito["answered_within_12h"] == pytest.approx(7 / 12)
    assert kaito["answered_within_24h"] == pytest.approx(7 / 12)
    # 1 h at 1, 2 h at 5/6, 69 h at 5/12
    assert kaito["restricted_mean_hours"] == pytest.approx(1 + 2 * 5 / 6 + 69 * 5 / 12)
    # brenner's curve sits at exactly 0.5 after its response: that is its median
    assert brenner["median_hours"] == 0.5
    assert brenner["restricted_mean_hours"] == pytest.approx(0.5 + 71.5 / 2)
    overall = df[df["grouping"] == "overall"].iloc[0]
    assert overall["median_hours"] == 3.0
    assert overall["restricted_mean_hours"] == pytest.approx(
        0.5 + 0.5 * 7 / 8 + 2 * 0.75 + 69 * 0.45
    )
    pairs = df[df["grouping"] == "brand_country"][["brand", "country", "probes"]]
    assert pairs.values.tolist() == [["brenner", "DE", 2], ["kaito", "DE", 5], ["kaito", "FR", 1]]
    assert df[df["grouping"] == "country"]["channel"].isna().all()


def test_km_curves_sql_by_hand() -> None:
    con = outcomes_db(HAND)
    create_km_steps(con)
    curves = brand_curves(con)
    assert curves[["brand", "time_hours", "at_risk", "responses"]].values.tolist() == [
        ["brenner", 0.0, 2, 0],
        ["brenner", 0.5, 2, 1],
        ["kaito", 0.0, 6, 0],
        ["kaito", 1.0, 6, 1],
        ["kaito", 3.0, 4, 2],
    ]
    assert np.allclose(curves["survival"], [1, 0.5, 1, 5 / 6, 5 / 12])


def scenario(seed: int) -> tuple[list[dict[str, object]], float]:
    """Staggered sending with an as-of time (some probes still open), ties on an hourly grid
    for even seeds, a brand that never answers and one whose every probe is answered."""
    rng = np.random.default_rng(seed)
    window = float(rng.choice([24.0, 72.0]))
    as_of = 150.0
    rows: list[dict[str, object]] = []
    for brand, style in [("alto", "mixed"), ("bravo", "mixed"), ("mute", "silent"),
                         ("zippy", "eager")]:  # fmt: skip
        for country in ("DE", "FR", "JP"):
            n = int(rng.integers(1, 30))
            sent = rng.uniform(0, as_of, n)
            cap = np.minimum(window, as_of - sent)
            if style == "silent":
                response = np.full(n, np.inf)
            elif style == "eager":
                response = rng.uniform(0, 1, n) * cap
            else:
                response = np.where(
                    rng.random(n) < 0.7, rng.exponential(rng.uniform(1, 30), n), np.inf
                )
            if seed % 2 == 0:
                response, cap = np.ceil(response), np.floor(cap)
            if style == "eager":
                response = np.minimum(response, cap)
            for r, c in zip(response, cap, strict=True):
                rows.append(
                    {
                        "brand": brand,
                        "country": country,
                        "channel": str(rng.choice(["x", "email"])),
                        "slot": str(rng.choice(["business", "evening"])),
                        "scope": "local" if country != "JP" else "global",
                        "duration_hours": float(min(r, c)),
                        "observed": bool(r <= c),
                        "auto_ack": bool(rng.random() < 0.2),
                    }
                )
    return rows, window


def first_at_or_below(curve: pd.Series, level: float = 0.5) -> float | None:
    hits = curve[curve <= level + 1e-9]
    return None if hits.empty else float(hits.index[0])


def lifelines_row(sample: pd.DataFrame, window: float) -> dict[str, float | None]:
    kmf = KaplanMeierFitter().fit(sample["duration_hours"], sample["observed"])
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    median = first_at_or_below(sf)
    if not ((sf - 0.5).abs() < 1e-9).any():  # unambiguous: lifelines' own median agrees
        own = kmf.median_survival_time_
        assert median == (None if math.isinf(own) else own)
    low, high = proportion_confint(sample["observed"].sum(), len(sample), method="wilson")
    within = 1 - kmf.survival_function_at_times([1, 12, 24]).to_numpy()
    return {
        "probes": len(sample),
        "answered": int(sample["observed"].sum()),
        "auto_acks": int(sample["auto_ack"].sum()),
        "response_rate": sample["observed"].mean(),
        "response_rate_low": low,
        "response_rate_high": high,
        "median_hours": median,
        "median_hours_low": first_at_or_below(ci.iloc[:, 0]),
        "median_hours_high": first_at_or_below(ci.iloc[:, 1]),
        "answered_within_1h": within[0],
        "answered_within_12h": within[1],
        "answered_within_24h": within[2],
        "restricted_mean_hours": restricted_mean_survival_time(kmf, t=window),
    }


@pytest.mark.parametrize("seed", range(12))
def test_every_metric_agrees_with_lifelines_and_statsmodels(seed: int) -> None:
    rows, window = scenario(seed)
    con = outcomes_db(rows)
    create_km_steps(con)
    got = group_metrics(con, window_hours=window)
    data = pd.DataFrame(rows)
    checked = 0
    for name, columns in GROUPINGS:
        parts = [("", data)] if not columns else list(data.groupby(list(columns)))
        mine = got[got["grouping"] == name]
        assert len(mine) == len(parts)
        for _, sample in parts:
            match = mine
            for col in columns:
                match = match[match[col] == sample[col].iloc[0]]
            assert len(match) == 1
            row = match.iloc[0]
            for col in set(KEYS) - set(columns):
                assert row[col] is None
            for metric, want in lifelines_row(sample, window).items():
                have = None if pd.isna(row[metric]) else float(row[metric])
                if want is None:
                    assert have is None, (name, metric)
                else:
                    assert have == pytest.approx(want, rel=1e-9, abs=1e-12), (name, metric)
            checked += 1
    mute = got[(got["grouping"] == "brand") & (got["brand"] == "mute")].iloc[0]
    assert (mute["answered"], mute["answered_within_24h"], mute["response_rate"]) == (0, 0, 0)
    assert pd.isna(mute["median_hours"])
    assert mute["restricted_mean_hours"] == pytest.approx(window)
    zippy = got[(got["grouping"] == "brand") & (got["brand"] == "zippy")].iloc[0]
    assert zippy["response_rate"] == 1.0
    assert checked > 20


@pytest.mark.parametrize("seed", range(5))
def test_with_every_probe_observed_for_its_window_the_rate_is_one_minus_km(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    response = rng.exponential(40, 200)
    rows: list[dict[str, object]] = [
        {"brand": f"b{i % 3}", "duration_hours": float(min(r, 72.0)), "observed": bool(r <= 72)}
        for i, r in enumerate(response)
    ]
    con = outcomes_db(rows)
    create_km_steps(con)
    got = group_metrics(con, window_hours=72.0)
    for _, row in got.iterrows():
        s_window = con.execute(
            "SELECT coalesce(min(survival), 1) FROM km_steps WHERE grouping = ? AND key = ?",
            [row["grouping"], row["brand"] if row["grouping"] == "brand" else ""],
        ).fetchone()
        assert s_window is not None
        if row["grouping"] in ("overall", "brand"):
            assert row["response_rate"] == pytest.approx(1 - s_window[0], rel=1e-12)


def test_an_empty_study_has_one_overall_row_with_no_statistics(tmp_path: Path) -> None:
    write_journal(tmp_path, [P("a", sent_at=None, state="planned")], last_observation=T0)
    df = metrics(tmp_path)
    assert df["grouping"].tolist() == ["overall"]
    assert df.loc[0, "probes"] == 0
    assert pd.isna(df.loc[0, "response_rate"]) and pd.isna(df.loc[0, "restricted_mean_hours"])


def test_metrics_and_curves_from_a_journal(tmp_path: Path) -> None:
    write_journal(
        tmp_path,
        [P("a"), P("b", sent_at=T0 + hours(1)), P("c", brand="brenner", handle="brenner_de")],
        [R("a", "kaito_de", T0 + hours(2)), R("c", "brenner_de", T0 + hours(1), "redirect")],
        last_observation=T0 + hours(100),
    )
    df = metrics(tmp_path)
    kaito = df[(df["grouping"] == "brand") & (df["brand"] == "kaito")].iloc[0]
    assert (kaito["probes"], kaito["answered"], kaito["median_hours"]) == (2, 1, 2.0)
    curves = km_curves(tmp_path)
    assert curves[["brand", "time_hours", "survival"]].values.tolist() == [
        ["brenner", 0.0, 1.0],
        ["brenner", 1.0, 0.0],
        ["kaito", 0.0, 1.0],
        ["kaito", 2.0, 0.5],
    ]


def test_steps_at_a_time_with_both_responses_and_censorings_by_hand() -> None:
    # at 1 h: two responses, then one censoring; at 2 h: a response; at 3 h: the last probe
    # is censored before the window (72 h, reached by the other brand's probe) ends
    rows: list[dict[str, object]] = [
        {"duration_hours": 1.0, "observed": True},
        {"duration_hours": 1.0, "observed": True},
        {"duration_hours": 1.0, "observed": False},
        {"duration_hours": 2.0, "observed": True},
        {"duration_hours": 3.0, "observed": False},
        {"brand": "brenner", "duration_hours": 72.0, "observed": False},
    ]
    con = outcomes_db(rows)
    create_km_steps(con)
    got = [g for g in steps(con, "brand") if g[0] == "kaito"]
    # S: 1 - 2/5 = 3/5, then 3/5 (1 - 1/2) = 3/10; Greenwood 2/15, then 2/15 + 1/2
    assert [g[:4] for g in got] == [("kaito", 1.0, 5, 2), ("kaito", 2.0, 2, 1)]
    assert np.allclose([g[4:] for g in got], [(3 / 5, 2 / 5, 2 / 15), (3 / 10, 3 / 10, 19 / 30)])


@pytest.mark.parametrize("seed", range(6))
def test_heavily_tied_durations_agree_with_lifelines(seed: int) -> None:
    """Whole-hour durations on a short grid: nearly every time holds several responses and
    censorings, and some groups run out of probes at risk before the window ends."""
    rng = np.random.default_rng(200 + seed)
    window = 6.0
    rows: list[dict[str, object]] = []
    for brand in ("alto", "bravo", "cargo"):
        for country in ("DE", "FR"):
            for _ in range(int(rng.integers(1, 40))):
                response = float(rng.integers(0, 8))
                cap = window if rng.random() < 0.6 else float(rng.integers(1, 6))
                rows.append(
                    {
                        "brand": brand,
                        "country": country,
                        "channel": str(rng.choice(["x", "email"])),
                        "slot": str(rng.choice(["business", "evening"])),
                        "duration_hours": min(response, cap),
                        "observed": response <= cap,
                    }
                )
    rows.append({"brand": "dolce", "duration_hours": window, "observed": False})
    con = outcomes_db(rows)
    create_km_steps(con)
    got = group_metrics(con, window_hours=window)
    data = pd.DataFrame(rows).fillna({"country": "DE", "channel": "x", "slot": "business"})
    data = data.assign(scope="local", auto_ack=False)
    for name, columns in GROUPINGS:
        parts = [("", data)] if not columns else list(data.groupby(list(columns)))
        mine = got[got["grouping"] == name]
        assert len(mine) == len(parts)
        for _, sample in parts:
            match = mine
            for col in columns:
                match = match[match[col] == sample[col].iloc[0]]
            row = match.iloc[0]
            for metric, want in lifelines_row(sample, window).items():
                have = None if pd.isna(row[metric]) else float(row[metric])
                if want is None:
                    assert have is None, (name, metric)
                else:
                    assert have == pytest.approx(want, rel=1e-9, abs=1e-12), (name, metric)


@pytest.mark.parametrize("seed", range(6))
def test_aggregated_cells_and_sorted_probes_give_the_same_steps(seed: int) -> None:
    rows, window = scenario(seed)
    results = []
    for aggregate in (False, True):
        con = outcomes_db(rows)
        create_km_steps(con, aggregate=aggregate)
        results.append(
            (
                con.execute("SELECT * FROM km_steps ORDER BY grouping, key, time_hours").fetchall(),
                group_metrics(con, window_hours=window, aggregate=aggregate),
            )
        )
    (sorted_steps, sorted_metrics), (cell_steps, cell_metrics) = results
    assert [r[:5] for r in sorted_steps] == [r[:5] for r in cell_steps]
    for a, b in zip(sorted_steps, cell_steps, strict=True):
        assert (a[7] is None) == (b[7] is None)
        assert np.allclose([x for x in a[5:] if x is not None], [x for x in b[5:] if x is not None],
                           rtol=1e-12, atol=1e-15)  # fmt: skip
    pd.testing.assert_frame_equal(sorted_metrics, cell_metrics, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_band_medians_equal_the_first_crossing_over_every_step(seed: int) -> None:
    """km_summary.sql works each band out only on the side of 0.5 where it can cross; the
    first crossing must be the one found by working both bands out at every step."""
    rows, window = scenario(seed)
    con = outcomes_db(rows)
    create_km_steps(con)
    brute = con.execute(
        """
        WITH b AS (
            SELECT grouping, key, time_hours,
                   CASE WHEN survival > 0 THEN exp(-exp(ln(-ln(survival))
                       - $z * sqrt(greatest(greenwood, 0)) / ln(survival))) ELSE 0 END AS lo,
                   CASE WHEN survival > 0 THEN exp(-exp(ln(-ln(survival))
                       + $z * sqrt(greatest(greenwood, 0)) / ln(survival))) ELSE 0 END AS hi
            FROM km_steps
        )
        SELECT grouping, key, min(time_hours) FILTER (WHERE lo <= 0.5 + 1e-9),
               min(time_hours) FILTER (WHERE hi <= 0.5 + 1e-9)
        FROM b GROUP BY ALL
        """,
        {"z": 1.959963984540054},
    ).fetchall()
    got = group_metrics(con, window_hours=window)
    key = got[list(KEYS)].apply(lambda r: "\x1f".join(x for x in r if isinstance(x, str)), axis=1)
    got = got.assign(key=key).set_index(["grouping", "key"])
    assert brute
    for grouping, k, low, high in brute:
        row = got.loc[(grouping, k)]
        assert (None if pd.isna(row["median_hours_low"]) else row["median_hours_low"]) == low
        assert (None if pd.isna(row["median_hours_high"]) else row["median_hours_high"]) == high


def test_missing_key_values_form_groups_of_their_own() -> None:
    """A probe whose country (or any key) is null is still counted, in a group of its own."""
    con = outcomes_db(HAND)
    con.execute("UPDATE outcomes SET country = NULL WHERE country = 'FR'")
    got = group_metrics(con, window_hours=72.0)
    pairs = got[got["grouping"] == "brand_country"]
    assert pairs["probes"].sum() == 8
    missing = pairs[pairs["country"].isna()].iloc[0]
    assert (missing["brand"], missing["probes"], missing["median_hours"]) == ("kaito", 1, 3.0)
    kaito = got[(got["grouping"] == "brand") & (got["brand"] == "kaito")].iloc[0]
    assert kaito["median_hours"] == 3.0
    assert kaito["answered_within_12h"] == pytest.approx(7 / 12)


def test_curves_of_chosen_groupings_only() -> None:
    con = outcomes_db(HAND)
    create_km_steps(con, groupings=["brand"])
    names = con.execute("SELECT DISTINCT grouping FROM km_steps").fetchall()
    assert names == [("brand",)]
    with pytest.raises(ValueError, match="unknown grouping 'brands'; use one of overall"):
        create_km_steps(con, groupings=["brands"])
