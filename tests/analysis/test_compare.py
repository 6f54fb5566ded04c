"""Brand comparisons: log-rank tests, Holm's adjustment, bootstrap ranks and tiers."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import restricted_mean_survival_time
from scipy.stats import chi2
from statsmodels.stats.multitest import multipletests

from analysis import compare
from analysis.compare import (
    BrandSample,
    bootstrap_ranks,
    brand_samples,
    chi2_p,
    comparisons,
    holm,
    pairwise_logrank,
    ranks_of,
    restricted_means,
    tiers,
)
from analysis.metrics import group_metrics
from analysis.resample import Cells, resampled
from tests.analysis.journals import outcomes_db


def sample(brand: str, durations: np.ndarray, observed: np.ndarray) -> BrandSample:
    order = np.lexsort((~observed, durations))
    return BrandSample(brand, durations[order].astype(float), observed[order].astype(bool))


def random_sample(rng: np.random.Generator, brand: str, scale: float, ties: bool) -> BrandSample:
    n = int(rng.integers(2, 60))
    response = rng.exponential(scale, n)
    cap = np.where(rng.random(n) < 0.3, rng.uniform(0, 72, n), 72.0)
    if ties:
        response, cap = np.ceil(response / 4) * 4, np.floor(cap / 4) * 4
    return sample(brand, np.minimum(response, cap), response <= cap)


def test_brand_durations_sql_by_hand() -> None:
    con = outcomes_db(
        [
            {"brand": "kaito", "duration_hours": 3.0, "observed": False},
            {"brand": "kaito", "duration_hours": 3.0, "observed": True},
            {"brand": "brenner", "duration_hours": 72.0, "observed": False},
            {"brand": "kaito", "duration_hours": 1.0, "observed": True},
            {"brand": "brenner", "duration_hours": 0.5, "observed": True},
        ]
    )
    got = [(s.brand, s.durations.tolist(), s.observed.tolist()) for s in brand_samples(con)]
    assert got == [
        ("brenner", [0.5, 72.0], [True, False]),
        ("kaito", [1.0, 3.0, 3.0], [True, True, False]),
    ]


@pytest.mark.parametrize("seed", range(10))
def test_pairwise_logrank_agrees_with_lifelines(seed: int) -> None:
    rng = np.random.default_rng(seed)
    samples = [random_sample(rng, f"b{i}", rng.uniform(2, 40), seed % 2 == 0) for i in range(4)]
    tests = pairwise_logrank(samples)
    assert [(t.a, t.b) for t in tests] == [
        ("b0", "b1"), ("b0", "b2"), ("b0", "b3"), ("b1", "b2"), ("b1", "b3"), ("b2", "b3")
    ]  # fmt: skip
    by_name = {s.brand: s for s in samples}
    for t in tests:
        a, b = by_name[t.a], by_name[t.b]
        want = logrank_test(a.durations, b.durations, a.observed, b.observed)
        assert t.chi2 == pytest.approx(want.test_statistic, rel=1e-9)
        assert t.p == pytest.approx(want.p_value, rel=1e-9)


@pytest.mark.parametrize("chunk", [1, 3, 50])
def test_pairwise_logrank_in_small_steps_agrees_with_lifelines(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compare, "_CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    samples = [random_sample(rng, f"b{i}", rng.uniform(2, 40), i % 2 == 0) for i in range(7)]
    samples.insert(3, sample("silent", np.array([72.0, 72.0, 5.0]), np.zeros(3, dtype=bool)))
    tests = pairwise_logrank(samples)
    assert len(tests) == 8 * 7 // 2
    by_name = {s.brand: s for s in samples}
    for t in tests:
        a, b = by_name[t.a], by_name[t.b]
        want = logrank_test(a.durations, b.durations, a.observed, b.observed)
        assert t.chi2 == pytest.approx(want.test_statistic, rel=1e-9)
        assert t.p == pytest.approx(want.p_value, rel=1e-9)


def test_a_pair_without_responses_has_nothing_to_test() -> None:
    silent = sample("a", np.array([72.0, 72.0]), np.array([False, False]))
    also = sample("b", np.array([10.0, 72.0]), np.array([False, False]))
    [t] = pairwise_logrank([silent, also])
    assert (t.chi2, t.p) == (0.0, 1.0)


def test_chi2_p_is_the_chi_square_tail() -> None:
    for x in (0.0, 0.5, 3.841458820694124, 12.0, 80.0):
        assert chi2_p(x) == pytest.approx(chi2.sf(x, 1), rel=1e-12)
    assert chi2_p(3.841458820694124) == pytest.approx(0.05)


@pytest.mark.parametrize("seed", range(5))
def test_holm_agrees_with_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.random(12) ** 3, [0.04, 0.04, 1.0]])
    assert holm(list(p)) == pytest.approx(list(multipletests(p, method="holm")[1]), rel=1e-12)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


@pytest.mark.parametrize("seed", range(10))
def test_restricted_means_agree_with_lifelines(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = random_sample(rng, "b", rng.uniform(2, 40), seed % 2 == 0)
    kmf = KaplanMeierFitter().fit(s.durations, s.observed)
    want = restricted_mean_survival_time(kmf, t=72.0)
    assert restricted_means(s.durations, s.observed, 72.0) == pytest.approx(want, rel=1e-9)


def test_each_resample_is_measured_as_lifelines_measures_it() -> None:
    rng = np.random.default_rng(9)
    s = random_sample(rng, "b", 10.0, ties=True)
    idx = rng.integers(0, len(s.durations), size=(5, len(s.durations)))
    rmst, rate = resampled(s, idx, 72.0)
    for row, mean, share in zip(idx, rmst, rate, strict=True):
        kmf = KaplanMeierFitter().fit(s.durations[row], s.observed[row])
        assert mean == pytest.approx(restricted_mean_survival_time(kmf, t=72.0), rel=1e-9)
        assert share == s.observed[row].mean()


def test_restricted_means_of_the_extremes() -> None:
    assert restricted_means(np.array([72.0, 72.0]), np.array([False, False]), 72.0) == 72.0
    both = restricted_means(np.array([1.0, 3.0]), np.array([True, True]), 72.0)
    assert both == pytest.approx(1 + 0.5 * 2)  # the curve reaches 0 at 3 hours


def test_ranks_break_ties_by_response_rate_then_order() -> None:
    rmst = np.array([[5.0, 5.0, 1.0, 5.0]])
    rate = np.array([[0.2, 0.9, 0.1, 0.2]])
    assert ranks_of(rmst, rate).tolist() == [[3, 2, 1, 4]]


def test_tiers_open_when_a_brand_differs_from_the_tiers_first_brand() -> None:
    significant = {("a", "b"): False, ("a", "c"): True, ("b", "c"): True, ("a", "d"): True,
                   ("b", "d"): True, ("c", "d"): False}  # fmt: skip
    assert tiers(["a", "b", "c", "d"], significant) == {"a": 1, "b": 1, "c": 2, "d": 2}
    # c differs from b but not from a, the tier's first brand: it stays in tier 1
    significant[("a", "c")] = False
    assert tiers(["a", "b", "c", "d"], significant) == {"a": 1, "b": 1, "c": 1, "d": 2}


def clear_case() -> list[BrandSample]:
    rng = np.random.default_rng(7)
    fast = rng.uniform(0, 0.5, 80)
    slow = [np.minimum(rng.exponential(40, 80), 72.0) for _ in range(2)]
    return [
        sample("fast", fast, np.ones(80, dtype=bool)),
        sample("slow1", slow[0], slow[0] < 72),
        sample("slow2", slow[1], slow[1] < 72),
    ]


def test_comparisons_rank_and_tier_a_clear_case() -> None:
    result = comparisons(clear_case(), 72.0, replicates=300, seed=3)
    assert result["ranks"][0] == {"brand": "fast", "rank": 1, "rank_low": 1, "rank_high": 1}
    assert {r["brand"]: (r["rank_low"], r["rank_high"]) for r in result["ranks"][1:]} == {
        "slow1": (2, 3),
        "slow2": (2, 3),
    }
    assert {t["brand"]: t["tier"] for t in result["tiers"]} == {"fast": 1, "slow1": 2, "slow2": 2}
    pairs = {(p["a"], p["b"]): p for p in result["pairwise"]}
    assert pairs[("fast", "slow1")]["p_holm"] < 0.05
    assert pairs[("slow1", "slow2")]["p_holm"] >= 0.05
    assert (result["rank_metric"], result["bootstrap_replicates"], result["seed"]) == (
        "restricted_mean_hours",
        300,
        3,
    )


def test_the_bootstrap_is_seeded() -> None:
    samples = clear_case()
    first = bootstrap_ranks(samples, 72.0, 200, seed=11)
    assert first.shape == (200, 3)
    assert np.array_equal(first, bootstrap_ranks(samples, 72.0, 200, seed=11))
    assert not np.array_equal(first, bootstrap_ranks(samples, 72.0, 200, seed=12))
    assert set(np.unique(first)) <= {1, 2, 3}
    assert (np.sort(first, axis=1) == [1, 2, 3]).all()


def test_point_estimates_are_the_sql_brand_metrics() -> None:
    rng = np.random.default_rng(5)
    rows: list[dict[str, object]] = []
    for brand, scale in (("a", 5.0), ("b", 20.0), ("c", 60.0)):
        s = random_sample(rng, brand, scale, ties=True)
        rows += [
            {"brand": brand, "duration_hours": float(d), "observed": bool(o)}
            for d, o in zip(s.durations, s.observed, strict=True)
        ]
    con = outcomes_db(rows)
    sql = group_metrics(con, window_hours=72.0)
    sql = sql[sql["grouping"] == "brand"].set_index("brand")
    for s in brand_samples(con):
        mean = restricted_means(s.durations, s.observed, 72.0)
        assert mean == pytest.approx(sql.loc[s.brand, "restricted_mean_hours"], rel=1e-9)


def test_no_brands_and_one_brand() -> None:
    empty = comparisons([], 72.0, replicates=10)
    assert (empty["pairwise"], empty["ranks"], empty["tiers"]) == ([], [], [])
    one = comparisons(clear_case()[:1], 72.0, replicates=10)
    assert one["ranks"] == [{"brand": "fast", "rank": 1, "rank_low": 1, "rank_high": 1}]
    assert one["tiers"] == [{"brand": "fast", "tier": 1}]


def test_a_resample_whose_responses_are_a_run_of_cells_is_measured_as_lifelines_does() -> None:
    # Censored only at the window's end: the response cells are taken as one slice.
    rng = np.random.default_rng(11)
    d = np.round(rng.exponential(6.0, 400) * 60) / 60
    o = d < 72.0
    d = np.minimum(d, 72.0)
    order = np.lexsort((~o, d))
    s = BrandSample("b", d[order], o[order])
    assert isinstance(Cells.of(s).pick, slice)
    idx = rng.integers(0, len(d), size=(4, len(d)))
    rmst, rate = resampled(s, idx, 72.0)
    for row, mean, share in zip(idx, rmst, rate, strict=True):
        kmf = KaplanMeierFitter().fit(s.durations[row], s.observed[row])
        assert mean == pytest.approx(restricted_mean_survival_time(kmf, t=72.0), rel=1e-9)
        assert share == s.observed[row].mean()
