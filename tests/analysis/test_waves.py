"""Two waves compared: the interval methods against statsmodels and a direct bootstrap with
lifelines, and compare_waves on two journals of the example study."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from analysis import analyze, metrics
from analysis.compare import BrandSample
from analysis.waves import change, compare_waves, newcombe, wilson
from study.errors import StudyError
from tests.reports.studies import example_study

CASES = [(0, 10, 0, 12), (10, 10, 3, 12), (5, 20, 15, 25), (1, 3, 2, 3), (40, 51, 9, 48)]


@pytest.mark.parametrize(("k_old", "n_old", "k_new", "n_new"), CASES)
def test_newcombe_agrees_with_statsmodels(k_old: int, n_old: int, k_new: int, n_new: int) -> None:
    d, low, high = newcombe(k_old, n_old, k_new, n_new)
    # statsmodels compares its first sample with its second: new - old
    s_low, s_high = confint_proportions_2indep(
        k_new, n_new, k_old, n_old, method="newcomb", compare="diff"
    )
    assert d == pytest.approx(k_new / n_new - k_old / n_old)
    assert (low, high) == pytest.approx((s_low, s_high), abs=1e-12)


@pytest.mark.parametrize(("k", "n"), [(0, 7), (7, 7), (3, 11), (50, 101)])
def test_wilson_agrees_with_statsmodels(k: int, n: int) -> None:
    assert wilson(k, n) == pytest.approx(proportion_confint(k, n, method="wilson"), abs=1e-12)


def _sample(rng: np.random.Generator, n: int, rate: float, scale: float) -> BrandSample:
    """n probes watched 72 hours: answered with `rate` after exponential times, the rest
    censored at the window; sorted, responses before censorings."""
    t = np.round(rng.exponential(scale, n), 2)
    observed = (rng.random(n) < rate) & (t < 72)
    t = np.where(observed, t, 72.0)
    order = np.lexsort((~observed, t))
    return BrandSample("b", t[order], observed[order])


def _lifelines(durations: np.ndarray, observed: np.ndarray) -> tuple[float, float]:
    """Median (first time S <= 0.5) and restricted mean to 72 h of lifelines' curve."""
    kmf = KaplanMeierFitter().fit(durations, observed)
    s = kmf.survival_function_.iloc[:, 0]
    below = s[s <= 0.5 + 1e-9]
    median = float(below.index[0]) if len(below) else math.inf
    return median, float(restricted_mean_survival_time(kmf, t=72.0))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_bootstrap_of_changes_agrees_with_a_direct_bootstrap(seed: int) -> None:
    rng = np.random.default_rng(seed)
    old, new = _sample(rng, 30, 0.8, 6.0), _sample(rng, 25, 0.9, 3.0)
    replicates = 150
    got = change(old, new, 72.0, replicates, np.random.default_rng(99))
    # The direct bootstrap: the same draws (old's resamples, then new's), each resample fitted
    # by lifelines from scratch.
    draw = np.random.default_rng(99)
    idx_old = draw.integers(0, 30, size=(replicates, 30))
    idx_new = draw.integers(0, 25, size=(replicates, 25))
    fits_old = np.array([_lifelines(old.durations[i], old.observed[i]) for i in idx_old])
    fits_new = np.array([_lifelines(new.durations[i], new.observed[i]) for i in idx_new])
    point_old = _lifelines(old.durations, old.observed)
    point_new = _lifelines(new.durations, new.observed)
    for m, name in enumerate(("median_hours", "restricted_mean_hours")):
        with np.errstate(invalid="ignore"):
            diffs = fits_new[:, m] - fits_old[:, m]
        low, high = np.nanquantile(diffs, [0.025, 0.975], method="inverted_cdf")
        c = got[name]
        assert c["change"] == pytest.approx(point_new[m] - point_old[m], abs=1e-9)
        assert c["low"] == pytest.approx(low if math.isfinite(low) else None, abs=1e-9)
        assert c["high"] == pytest.approx(high if math.isfinite(high) else None, abs=1e-9)
        assert c["excludes_zero"] == bool(low > 0 or high < 0)
    assert got["old"]["median_hours"] == pytest.approx(point_old[0])
    assert got["new"]["restricted_mean_hours"] == pytest.approx(point_new[1])


def test_a_median_beyond_the_window_has_no_size() -> None:
    never = BrandSample("b", np.full(10, 72.0), np.zeros(10, bool))
    fast = BrandSample("b", np.linspace(1, 10, 10), np.ones(10, bool))
    got = change(never, fast, 72.0, 100, np.random.default_rng(1))
    assert got["old"]["median_hours"] is None
    assert got["median_hours"] == {
        "change": None, "low": None, "high": None, "excludes_zero": False,
    }  # fmt: skip
    assert got["restricted_mean_hours"]["excludes_zero"]
    assert got["response_rate"]["change"] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def waves(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("waves")
    return example_study(tmp / "one", seed=1), example_study(tmp / "two", seed=2)


def test_compare_waves_reports_each_waves_own_figures(waves: tuple[Path, Path]) -> None:
    one, two = waves
    result = compare_waves(one, two, replicates=200, seed=3)
    for side, folder in (("old", one), ("new", two)):
        table = metrics(folder)
        by_brand = table[table.grouping == "brand"].set_index("brand")
        for row in result["changes"]["brand"]:
            m = by_brand.loc[row["brand"]]
            assert row[side]["probes"] == m["probes"]
            assert row[side]["response_rate"] == pytest.approx(m["response_rate"], abs=1e-4)
            assert row[side]["restricted_mean_hours"] == pytest.approx(
                m["restricted_mean_hours"], abs=1e-4
            )
            if row[side]["median_hours"] is None:
                assert math.isnan(m["median_hours"])
            else:
                assert row[side]["median_hours"] == pytest.approx(m["median_hours"], abs=1e-4)
        # the same brands: the ranks and their intervals are those analyze publishes
        published = analyze(folder, replicates=200, seed=3)["comparisons"]["ranks"]
        ranks = {r["brand"]: r[side] for r in result["ranks"]}
        assert {r["brand"]: {k: r[k] for k in ("rank", "rank_low", "rank_high")}
                for r in published} == ranks  # fmt: skip
    assert [r["brand"] for r in result["changes"]["brand"]] == [r["brand"] for r in result["ranks"]]
    assert result["changes"]["overall"][0]["old"]["probes"] == 501
    assert len(result["changes"]["country"]) == 17
    for r in result["ranks"]:  # a rank change: the two intervals do not overlap
        o, n = r["old"], r["new"]
        assert r["changed"] == (n["rank_high"] < o["rank_low"] or n["rank_low"] > o["rank_high"])
    assert any(r["changed"] for r in result["ranks"])
    assert compare_waves(one, two, replicates=200, seed=3) == result  # seeded


def test_brands_in_one_wave_only_are_listed_not_compared(
    waves: tuple[Path, Path], tmp_path: Path
) -> None:
    one, _ = waves
    two = example_study(tmp_path / "two", seed=2)
    import sqlite3

    con = sqlite3.connect(two / "journal" / "journal.sqlite")
    con.execute("UPDATE probes SET brand = 'newco' WHERE brand = 'kaito'")
    con.commit()
    con.close()
    result = compare_waves(one, two, replicates=100)
    assert result["brands"]["only_old"] == ["kaito"]
    assert result["brands"]["only_new"] == ["newco"]
    assert "kaito" not in [r["brand"] for r in result["changes"]["brand"]]
    # overall: the shared brands only
    kaito = metrics(one).query("grouping == 'brand' and brand == 'kaito'")["probes"].iloc[0]
    assert result["changes"]["overall"][0]["old"]["probes"] == 501 - kaito


def test_studies_with_different_windows_are_not_compared(
    waves: tuple[Path, Path], tmp_path: Path
) -> None:
    import sqlite3

    one, two = waves
    other = tmp_path / "other"
    shutil.copytree(two, other)
    con = sqlite3.connect(other / "journal" / "journal.sqlite")
    con.execute("UPDATE meta SET value = '48.0' WHERE key = 'window_hours'")
    con.commit()
    con.close()
    with pytest.raises(StudyError, match="72 hours, .* for 48: restricted means"):
        compare_waves(one, other)
