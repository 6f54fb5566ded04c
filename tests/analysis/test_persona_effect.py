"""The persona effect against independent implementations: the Mantel-Haenszel risk
difference against a plain-Python transcription of Sato's formulas and statsmodels, the
stratified log-rank test against statsmodels' survdiff and lifelines' Cox score test."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceWarning
from lifelines.statistics import logrank_test, multivariate_logrank_test
from scipy.stats import chi2 as chi2_dist
from statsmodels.duration.survfunc import survdiff
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from analysis.mantel_haenszel import risk_differences
from analysis.persona_effect import persona_effects
from analysis.stratified_logrank import chi2_sf, stratified_logrank
from study.errors import StudyError

Z = 1.959963984540054
Table = tuple[int, int, int, int]  # n1, a, n0, c: a of n1 answered (level), c of n0 (reference)


def sato(tables: list[Table]) -> tuple[float, float]:
    """Mantel-Haenszel risk difference and Sato's variance, transcribed from SAS PROC FREQ's
    "Common Risk Difference" (Sato 1989): a loop over strata, no numpy."""
    tables = [t for t in tables if t[0] and t[2]]
    w = [n1 * n0 / (n1 + n0) for n1, _, n0, _ in tables]
    d_h = [a / n1 - c / n0 for n1, a, n0, c in tables]
    d = sum(wi * di for wi, di in zip(w, d_h, strict=True)) / sum(w)
    p = q = 0.0
    for n1, a, n0, c in tables:
        n = n1 + n0
        p += (n1 * n1 * c - n0 * n0 * a + n1 * n0 * (n0 - n1) / 2) / (n * n)
        q += (a * (n0 - c) + c * (n1 - a)) / (2 * n)
    return d, (d * p + q) / sum(w) ** 2


def greenland_robins(tables: list[Table]) -> float:
    """Greenland and Robins' (1985) variance of the MH risk difference (large strata)."""
    w = sum(n1 * n0 / (n1 + n0) for n1, _, n0, _ in tables)
    v = sum(
        (a * (n1 - a) * n0**3 + c * (n0 - c) * n1**3) / (n1 * n0 * (n1 + n0) ** 2)
        for n1, a, n0, c in tables
    )
    return v / w**2


def random_tables(seed: int, strata: int, most: int = 12) -> list[Table]:
    rng = np.random.default_rng(seed)
    n1 = rng.integers(1, most + 1, strata)
    n0 = rng.integers(1, most + 1, strata)
    p = rng.uniform(0.05, 0.95, strata)
    a = rng.binomial(n1, np.clip(p + rng.normal(0, 0.1), 0, 1))
    c = rng.binomial(n0, p)
    return [(int(x), int(y), int(z), int(v)) for x, y, z, v in zip(n1, a, n0, c, strict=True)]


def probes_of(tables: list[Table], level: str = "b", reference: str = "a") -> pd.DataFrame:
    """One row per probe of the tables: brand s<i>, persona, observed, duration (answered
    after 1 hour, else censored at the 72-hour window)."""
    rows = []
    for i, (n1, a, n0, c) in enumerate(tables):
        for persona, n, k in ((level, n1, a), (reference, n0, c)):
            rows += [(f"s{i}", persona, j < k, 1.0 if j < k else 72.0) for j in range(n)]
    return pd.DataFrame(rows, columns=["brand", "persona", "observed", "duration_hours"])


def columns(tables: list[Table]) -> tuple[list[int], list[int], list[int], list[int]]:
    n1, a, n0, c = zip(*tables, strict=True)
    return list(n1), list(a), list(n0), list(c)


@pytest.mark.parametrize("seed", range(12))
def test_risk_difference_matches_sato_transcribed(seed: int) -> None:
    tables = random_tables(seed, strata=1 + seed * 3)
    [rd] = risk_differences(*columns(tables))
    d, var = sato(tables)
    assert rd.difference == pytest.approx(d, abs=1e-12)
    assert rd.variance == pytest.approx(var, rel=1e-12)
    assert (rd.low, rd.high) == pytest.approx((d - Z * math.sqrt(var), d + Z * math.sqrt(var)))
    effect = persona_effects(probes_of(tables), reference="a").effects[0]
    assert (effect.difference, effect.difference_low) == pytest.approx((d, rd.low), abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_cmh_test_matches_statsmodels(seed: int) -> None:
    tables = random_tables(seed, strata=2 + seed * 5)
    [rd] = risk_differences(*columns(tables))
    sm = StratifiedTable([[[a, n1 - a], [c, n0 - c]] for n1, a, n0, c in tables])
    null = sm.test_null_odds(correction=False)
    assert rd.chi2 == pytest.approx(null.statistic, rel=1e-10)
    assert rd.p == pytest.approx(null.pvalue, rel=1e-8, abs=1e-14)


@pytest.mark.parametrize("seed", range(6))
def test_point_estimate_is_statsmodels_fixed_effect_with_cochran_weights(seed: int) -> None:
    # The MH difference is the mean of the strata's differences weighted by n1 n0 / N: an
    # inverse-variance (fixed effect) pooling whose variances are N / (n1 n0).
    tables = random_tables(seed, strata=5 + seed)
    [rd] = risk_differences(*columns(tables))
    eff = [a / n1 - c / n0 for n1, a, n0, c in tables]
    var = [(n1 + n0) / (n1 * n0) for n1, _, n0, _ in tables]
    with np.errstate(invalid="ignore"):  # its random-effects part, unused here
        pooled = combine_effects(np.array(eff), np.array(var), method_re="chi2", use_t=False)
    assert rd.difference == pytest.approx(pooled.mean_effect_fe, abs=1e-12)


@pytest.mark.parametrize(("n1", "a", "n0", "c"), [(10, 3, 20, 12), (40, 40, 35, 1), (7, 2, 9, 8)])
def test_one_brand_gives_statsmodels_wald_interval(n1: int, a: int, n0: int, c: int) -> None:
    [rd] = risk_differences([n1], [a], [n0], [c])
    low, high = confint_proportions_2indep(a, n1, c, n0, method="wald", compare="diff")
    assert rd.difference == pytest.approx(a / n1 - c / n0, abs=1e-12)
    assert (rd.low, rd.high) == pytest.approx((low, high), abs=1e-12)


def test_sato_and_greenland_robins_agree_with_large_brands() -> None:
    tables = [(2000, 1300, 2100, 1100), (1500, 600, 1600, 500), (3000, 2700, 2800, 2400)]
    [rd] = risk_differences(*columns(tables))
    assert rd.variance == pytest.approx(greenland_robins(tables), rel=0.01)


def test_sato_holds_with_two_inquiries_per_brand() -> None:
    # 2,000 audit studies of 200 brands, each asked twice by each persona: the spread of the
    # differences matches Sato's variance, where Greenland and Robins' halves it.
    rng = np.random.default_rng(7)
    p = rng.uniform(0.2, 0.7, 200)
    n = np.full((2000, 200), 2)
    a, c = rng.binomial(n, p + 0.1), rng.binomial(n, p)
    found = risk_differences(n, a, n, c)
    d = np.array([r.difference for r in found])
    var = np.array([r.variance for r in found])
    assert np.var(d) / var.mean() == pytest.approx(1, abs=0.1)
    gr = greenland_robins(list(zip(n[0], a[0], n[0], c[0], strict=True)))
    assert gr / var[0] == pytest.approx(0.5, abs=0.1)
    covered = np.mean([r.low <= 0.1 <= r.high for r in found])  # type: ignore[operator]
    assert covered == pytest.approx(0.95, abs=0.015)


def test_brands_asked_by_one_level_drop_out() -> None:
    tables = [(5, 3, 6, 2), (4, 4, 5, 1), (6, 1, 6, 3)]
    [base] = risk_differences(*columns(tables))
    [more] = risk_differences(*columns([*tables, (9, 9, 0, 0), (0, 0, 7, 1)]))
    assert more == base
    assert base.strata == 3


def test_brands_answering_everyone_or_no_one_pull_towards_zero() -> None:
    tables = [(5, 4, 6, 2), (4, 4, 5, 1)]
    [base] = risk_differences(*columns(tables))
    [more] = risk_differences(*columns([*tables, (6, 6, 6, 6), (5, 0, 5, 0)]))
    d, var = sato([*tables, (6, 6, 6, 6), (5, 0, 5, 0)])
    assert base.difference is not None and more.difference is not None
    assert 0 < more.difference < base.difference
    assert (more.difference, more.variance) == pytest.approx((d, var))
    # the CMH test's sums do not change: those brands carry no information on association
    assert more.chi2 == pytest.approx(base.chi2)
    assert more.strata == 4


def test_no_shared_brand_or_no_variation_leaves_the_interval_undefined() -> None:
    [none] = risk_differences([5, 0], [2, 0], [0, 4], [0, 1])
    assert (none.difference, none.low, none.high, none.p, none.strata) == (
        None,
        None,
        None,
        None,
        0,
    )
    [flat] = risk_differences([5, 4], [5, 0], [3, 6], [3, 0])
    assert (flat.difference, flat.low, flat.high, flat.chi2) == (0.0, None, None, None)
    [apart] = risk_differences([5, 4], [5, 4], [3, 6], [0, 0])
    assert (apart.difference, apart.low, apart.high) == (1.0, None, None)
    assert apart.p is not None and apart.p < 0.001


def test_levels_are_compared_with_the_largest_by_default() -> None:
    frame = pd.concat(
        [
            probes_of([(4, 2, 6, 3), (5, 4, 5, 2)], level="b", reference="c"),
            probes_of([(3, 3, 2, 1)], level="a", reference="c").assign(brand="t0"),
        ]
    )
    result = persona_effects(frame)
    assert result.reference == "c"
    assert [(e.level, e.reference) for e in result.effects] == [("a", "c"), ("b", "c")]
    assert [r.probes for r in result.levels] == [3, 9, 13]
    assert [r.brands for r in result.levels] == [1, 2, 3]
    only_a = result.effects[0]
    assert (only_a.brands, only_a.probes) == (1, 5)
    assert result.logrank.df == 2
    with pytest.raises(StudyError, match="'x' is not a level of 'persona'; use one of a, b, c"):
        persona_effects(frame, reference="x")


def test_rates_use_the_wilson_interval_and_unknown_levels_are_counted() -> None:
    frame = probes_of([(10, 7, 10, 4)])
    frame["gender"] = ["f"] * 10 + [None] * 5 + ["m"] * 5
    result = persona_effects(pa.Table.from_pandas(frame), "gender")
    assert (result.probes, result.unknown) == (15, 5)
    f = result.levels[0]
    assert (f.level, f.probes, f.answered) == ("f", 10, 7)
    wilson = proportion_confint(7, 10, method="wilson")
    assert (f.response_rate_low, f.response_rate_high) == pytest.approx(wilson, abs=1e-12)
    with pytest.raises(StudyError, match="no column 'language'"):
        persona_effects(frame, "language")


def test_one_level_has_rates_and_no_effect() -> None:
    frame = probes_of([(4, 1, 0, 0), (3, 3, 0, 0)])
    result = persona_effects(frame)
    assert (result.reference, result.effects, result.logrank.chi2) == ("b", (), None)
    data = result.to_json()
    low, high = proportion_confint(4, 7, method="wilson")
    assert data["levels"] == [
        {
            "level": "b",
            "probes": 7,
            "answered": 4,
            "brands": 2,
            "response_rate": 4 / 7,
            "response_rate_low": pytest.approx(low, abs=1e-12),
            "response_rate_high": pytest.approx(high, abs=1e-12),
        }
    ]
    assert data["logrank"] == {
        "chi2": None,
        "df": 0,
        "p": None,
        "answered": {"b": 4.0},
        "expected": {"b": 4.0},
    }
    assert json.loads(json.dumps(data)) == data


def survival_sample(seed: int, n: int, groups: int, *, ties: bool) -> pd.DataFrame:
    """Brands that differ a lot, groups that differ a little, a 72-hour window."""
    rng = np.random.default_rng(seed)
    brand = rng.integers(0, 8, n)
    group = rng.integers(0, groups, n)
    # confounded on purpose: the higher the group, the more often it asks the slow brands
    brand = np.where(rng.random(n) < 0.6 * group / (groups - 1), brand % 3, brand)
    hours = rng.exponential(1 / (0.01 + 0.04 * brand + 0.01 * group))
    if ties:
        hours = np.ceil(hours)
    observed = (hours < 72) & (rng.random(n) < 0.8)
    return pd.DataFrame(
        {
            "brand": brand,
            "group": group,
            "observed": observed,
            "duration_hours": np.where(observed, hours, 72.0),
        }
    )


@pytest.mark.parametrize(("seed", "groups"), [(0, 2), (1, 2), (2, 3), (3, 4), (4, 2)])
def test_stratified_logrank_matches_statsmodels_survdiff(seed: int, groups: int) -> None:
    df = survival_sample(seed, 300, groups, ties=True)
    test = stratified_logrank(df.duration_hours, df.observed, df.group, df.brand, groups)
    chi2, p = survdiff(df.duration_hours, df.observed.astype(int), df.group, strata=df.brand)
    assert test.df == groups - 1
    assert test.chi2 == pytest.approx(chi2, rel=1e-9)
    assert test.p == pytest.approx(p, rel=1e-7, abs=1e-14)
    unstratified = survdiff(df.duration_hours, df.observed.astype(int), df.group)[0]
    assert abs(test.chi2 - unstratified) > 0.1  # the strata matter in these samples


@pytest.mark.parametrize(("seed", "groups"), [(5, 2), (6, 3)])
def test_stratified_logrank_is_lifelines_cox_score_test(seed: int, groups: int) -> None:
    # Without tied response times the log-rank test is the score test of a Cox model at
    # beta = 0; lifelines stops after its first Newton step there, so params_ stay 0.
    df = survival_sample(seed, 400, groups, ties=False)
    test = stratified_logrank(df.duration_hours, df.observed, df.group, df.brand, groups)
    cox = pd.get_dummies(df.group, prefix="g", drop_first=True, dtype=float)
    cox[["T", "E", "brand"]] = df[["duration_hours", "observed", "brand"]].astype(float)
    with pytest.warns(ConvergenceWarning, match="failed to converge"):
        fit = CoxPHFitter().fit(cox, "T", "E", strata=["brand"], fit_options={"max_steps": 1})
    assert (fit.params_ == 0).all()
    u = fit.compute_residuals(cox, kind="score").sum().to_numpy()
    assert test.chi2 == pytest.approx(float(u @ fit.variance_matrix_.to_numpy() @ u), rel=1e-8)


@pytest.mark.parametrize(("seed", "groups"), [(7, 2), (8, 3)])
def test_one_brand_matches_lifelines_logrank(seed: int, groups: int) -> None:
    df = survival_sample(seed, 200, groups, ties=True)
    test = stratified_logrank(df.duration_hours, df.observed, df.group, np.zeros(200), groups)
    if groups == 2:
        a, b = df[df.group == 0], df[df.group == 1]
        lf = logrank_test(a.duration_hours, b.duration_hours, a.observed, b.observed)
    else:
        lf = multivariate_logrank_test(df.duration_hours, df.group, df.observed)
    assert test.chi2 == pytest.approx(lf.test_statistic, rel=1e-9)
    assert test.p == pytest.approx(lf.p_value, rel=1e-7)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 12])
@pytest.mark.parametrize("x", [0.01, 0.5, 3.84, 10.0, 40.0, 150.0])
def test_chi2_tail_matches_scipy(x: float, df: int) -> None:
    assert chi2_sf(x, df) == pytest.approx(chi2_dist.sf(x, df), rel=1e-9, abs=1e-300)


probe_rows = st.lists(
    st.tuples(
        st.integers(0, 4),  # brand
        st.booleans(),  # level b (else a)
        st.booleans(),  # answered
        st.integers(1, 6),  # hour
    ),
    min_size=2,
    max_size=40,
)


def frame_of(rows: list[tuple[int, bool, bool, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(f"s{s}", "b" if b else "a", o, float(h) if o else 72.0) for s, b, o, h in rows],
        columns=["brand", "persona", "observed", "duration_hours"],
    )


@settings(max_examples=150, deadline=None)
@given(probe_rows)
def test_swapping_the_levels_flips_the_sign(rows: list[tuple[int, bool, bool, int]]) -> None:
    frame = frame_of(rows)
    if frame.persona.nunique() < 2:
        return
    [ab] = persona_effects(frame, reference="a").effects
    [ba] = persona_effects(frame, reference="b").effects
    if ab.difference is None:
        assert ba.difference is None
        return
    assert ba.difference == pytest.approx(-ab.difference, abs=1e-12)
    if ab.difference_low is not None:
        assert ba.difference_high == pytest.approx(-ab.difference_low, abs=1e-12)
    assert ba.cmh_chi2 == pytest.approx(ab.cmh_chi2)
    assert ba.logrank_chi2 == pytest.approx(ab.logrank_chi2)


@settings(max_examples=150, deadline=None)
@given(probe_rows)
def test_identical_levels_give_no_effect(rows: list[tuple[int, bool, bool, int]]) -> None:
    frame = frame_of(rows)
    twins = pd.concat([frame.assign(persona="a"), frame.assign(persona="b")])
    [effect] = persona_effects(twins, reference="a").effects
    assert effect.difference == pytest.approx(0, abs=1e-12)
    assert effect.cmh_chi2 in (None, pytest.approx(0, abs=1e-12))
    assert effect.logrank_chi2 in (None, pytest.approx(0, abs=1e-12))


@settings(max_examples=100, deadline=None)
@given(probe_rows)
def test_row_order_and_brand_names_do_not_matter(rows: list[tuple[int, bool, bool, int]]) -> None:
    frame = frame_of(rows)
    shuffled = frame.sample(frac=1, random_state=len(rows)).assign(
        brand=lambda f: "x" + f.brand.str[::-1]
    )
    before = persona_effects(frame, reference="a" if "a" in set(frame.persona) else None)
    after = persona_effects(shuffled, reference=before.reference)
    numbers, texts = leaves(before.to_json())
    assert leaves(after.to_json()) == (pytest.approx(numbers, abs=1e-12), texts)


def leaves(value: object) -> tuple[list[float], list[object]]:
    """A JSON value's numbers, and everything else (text, None, keys), in order."""
    numbers: list[float] = []
    texts: list[object] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            texts += list(item)
            stack += list(item.values())
        elif isinstance(item, list | tuple):
            stack += list(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            numbers.append(float(item))
        else:
            texts.append(item)
    return numbers, texts


def test_every_unanswered_probe_counts() -> None:
    # An unanswered probe is censored, not dropped: adding silent probes to one level
    # lowers its rate and its time to response looks worse in the log-rank test.
    tables = [(6, 4, 6, 4), (5, 3, 5, 3)]
    [same] = persona_effects(probes_of(tables), reference="a").effects
    [worse] = persona_effects(probes_of([(9, 4, 6, 4), (8, 3, 5, 3)]), reference="a").effects
    assert same.difference == pytest.approx(0)
    assert worse.difference is not None and worse.difference < 0
    assert worse.logrank_chi2 is not None and worse.logrank_chi2 > 0
