"""Sample sizes against statsmodels and lifelines, and the words that explain them."""

from __future__ import annotations

import math

import pytest
from lifelines.statistics import sample_size_necessary_under_cph
from statsmodels.stats.power import NormalIndPower, zt_ind_solve_power
from statsmodels.stats.proportion import proportion_effectsize

from analysis.power import (
    answered_within,
    events_needed,
    inquiries_per_persona,
    power_medians,
    power_rates,
    power_report,
)
from study.errors import StudyError

RATES = [(0.6, 0.75), (0.5, 0.55), (0.9, 0.8), (0.1, 0.3), (0.35, 0.65), (0.02, 0.1)]
LEVELS = [(0.05, 0.8), (0.01, 0.9), (0.1, 0.8), (0.05, 0.95)]


@pytest.mark.parametrize(("p1", "p2"), RATES)
@pytest.mark.parametrize(("alpha", "power"), LEVELS)
def test_rates_match_statsmodels(p1: float, p2: float, alpha: float, power: float) -> None:
    n_sm = NormalIndPower().solve_power(
        effect_size=proportion_effectsize(p1, p2),
        alpha=alpha,
        power=power,
        ratio=1.0,
        alternative="two-sided",
    )
    # statsmodels also counts the far tail, which can only lower n, and by a hair.
    assert power_rates(p1, p2, alpha, power) == math.ceil(n_sm - 1e-6)


def test_rates_ignore_the_far_tail_like_the_textbook_formula() -> None:
    # At low power the far tail (rejecting in the wrong direction) is no longer negligible:
    # statsmodels counts it and asks 538.5 probes; the textbook formula asks 539.2.
    h = proportion_effectsize(0.5, 0.55)
    n_sm = NormalIndPower().solve_power(effect_size=h, alpha=0.1, power=0.5, ratio=1.0)
    assert n_sm == pytest.approx(538.47, abs=0.01)
    assert power_rates(0.5, 0.55, 0.1, 0.5) == 540


def test_rates_reproduce_cohens_table() -> None:
    # Cohen (1988), table 6.4.1: h = 0.2, two-sided alpha 0.05, power 0.80 -> n = 392.
    p2 = math.sin(math.asin(math.sqrt(0.5)) + 0.1) ** 2  # h = 0.2 exactly
    assert power_rates(0.5, p2) == 393  # 392.4, rounded up
    assert power_rates(0.5, p2) == power_rates(p2, 0.5)


@pytest.mark.parametrize("base", [0.1, 0.3, 0.5, 0.6, 0.8, 0.9])
@pytest.mark.parametrize("difference", [0.05, -0.05, 0.1])
def test_inquiries_per_persona_match_statsmodels(base: float, difference: float) -> None:
    h = proportion_effectsize(base + difference, base)
    n_sm = zt_ind_solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1.0)
    assert inquiries_per_persona(base, difference) == math.ceil(n_sm - 1e-6)
    n_normal = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1.0)
    assert n_normal == pytest.approx(n_sm, rel=1e-6)


def test_five_points_at_sixty_percent_need_about_fifteen_hundred_inquiries() -> None:
    assert inquiries_per_persona(0.6) == 1471
    text = power_report(base_rate=0.6)
    assert (
        "To tell personas apart whose response rates differ by 5 points, at a response rate "
        "of about 60%, with a two-sided test at the 5% level with 80% power, each persona "
        "needs 1471 inquiries in all" in text
    )


@pytest.mark.parametrize(
    ("m1", "m2", "window", "answer_rate"),
    [(4, 8, 72, None), (2, 3, 24, 0.9), (10, 5, 72, 0.6), (1, 1.5, 48, None), (24, 12, 72, 0.8)],
)
def test_medians_with_freedmans_formula_match_lifelines(
    m1: float, m2: float, window: float, answer_rate: float | None
) -> None:
    rate = 1.0 if answer_rate is None else answer_rate
    p1, p2 = answered_within(m1, window, rate), answered_within(m2, window, rate)
    n_exp, n_con = sample_size_necessary_under_cph(0.8, 1.0, p1, p2, m2 / m1, alpha=0.05)
    ours = power_medians(m1, m2, window, 0.05, 0.8, answer_rate, method="freedman")
    assert ours == n_exp == n_con


def test_schoenfelds_events_by_hand() -> None:
    z = 1.959963984540054 + 0.8416212335729143
    assert events_needed(2.0) == pytest.approx(4 * z**2 / math.log(2) ** 2)
    assert math.ceil(events_needed(2.0)) == 66
    # With a window long enough for every probe to be answered, n = events / 2 per brand.
    assert power_medians(4, 8, window_h=1e6) == 33
    # A shorter window and a lower answer rate need more probes for the same answers.
    assert power_medians(4, 8, 72) == 33
    assert power_medians(4, 8, 8) == math.ceil(events_needed(2.0) / (0.75 + 0.5))
    assert power_medians(4, 8, 8, answer_rate=0.5) == math.ceil(events_needed(2.0) / 0.625)


def test_schoenfeld_and_freedman_agree_for_small_effects() -> None:
    for hr in (1.02, 1.05, 0.95):
        ratio = events_needed(hr, method="schoenfeld") / events_needed(hr, method="freedman")
        assert ratio == pytest.approx(1.0, abs=2e-3)
    assert events_needed(2.0, method="freedman") / events_needed(2.0) == pytest.approx(
        1.081, abs=1e-3
    )


def test_exponential_answer_share() -> None:
    assert answered_within(4, 4) == pytest.approx(0.5)
    assert answered_within(4, 8, 0.8) == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: power_rates(0.5, 0.5), "the two response rates are equal"),
        (lambda: power_rates(0.5, 1.2), "p2 is a response rate between 0 and 1"),
        (lambda: power_rates(0.5, 0.6, alpha=0), "alpha must be between 0 and 1"),
        (lambda: power_rates(0.5, 0.6, power=1), "power must be between 0 and 1"),
        (lambda: power_medians(4, 4, 72), "the two medians are equal"),
        (lambda: power_medians(0, 4, 72), "median1_h must be a number of hours above 0"),
        (lambda: power_medians(4, 8, -1), "window_h must be a number of hours above 0"),
        (lambda: power_medians(4, 8, 72, answer_rate=0), "answer_rate is a share above 0"),
        (lambda: power_report(), "nothing to compute"),
        (lambda: inquiries_per_persona(0, 0.05), "base_rate is a response rate between 0"),
        (lambda: inquiries_per_persona(0.98, 0.05), "keeps 0.98 \\+ difference between 0"),
        (lambda: inquiries_per_persona(0.5, 0), "difference must be a non-zero share"),
    ],
)
def test_impossible_questions_are_study_errors(call: object, message: str) -> None:
    with pytest.raises(StudyError, match=message):
        call()  # type: ignore[operator]


def test_the_report_says_the_numbers_in_words() -> None:
    text = power_report(p1=0.6, p2=0.75, median1_h=4, median2_h=8, window_h=72)
    assert "\n" not in text
    assert (
        f"To tell a response rate of 60% from one of 75% with a two-sided test at the 5% level "
        f"with 80% power, each brand needs {power_rates(0.6, 0.75)} probes" in text
    )
    assert "needs about 66 answers from the two brands together" in text
    assert f"that is {power_medians(4, 8, 72)} probes per brand." in text
    only_rates = power_report(p1=0.6, p2=0.75, alpha=0.01, power=0.9)
    assert "at the 1% level with 90% power" in only_rates
    assert "log-rank" not in only_rates
