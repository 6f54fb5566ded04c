"""Sample size: how many probes per brand a study needs to tell two brands apart.

Two questions, both two-sided at level `alpha` with the given `power`, two brands with the
same number of probes, normal quantiles from `statistics.NormalDist`:

- response rates p1 vs p2: Cohen's h = 2 asin(sqrt p1) - 2 asin(sqrt p2) (the arcsine makes
  the variance 1/n whatever the rate), n = 2 ((z_(1-alpha/2) + z_power) / h)^2 per brand
  (Cohen, Statistical Power Analysis, 1988, ch. 6);
- response times by the log-rank test, times exponential with medians m1 and m2 hours:
  the number of answers (events) needed in all is Schoenfeld's
  d = 4 (z_(1-alpha/2) + z_power)^2 / ln(HR)^2 with HR = m2 / m1 (Schoenfeld 1983), or
  Freedman's d = ((HR + 1) / (HR - 1))^2 (z_(1-alpha/2) + z_power)^2 (Freedman 1982, what
  lifelines' `sample_size_necessary_under_cph` uses; it asks ~8% more at HR = 2). A probe
  is answered within the window w with probability a (1 - 2^(-w / m)), a = the share of
  probes ever answered (`answer_rate`, default 1; the medians are those of the answered
  probes), so n = d / (P1 + P2) per brand;
- the persona effect (analysis.persona_effect): inquiries per persona to tell a difference
  of `difference` (e.g. 0.05, 5 points) from none at a base response rate, the first
  question with p1 = base rate and p2 = base rate + difference. It is the number for the
  brand-stratified comparison too when each brand is asked equally often by both personas
  (a balanced design), and a little more than it needs where brands' rates differ (their
  spread is taken out by the strata); it is the total over all brands, e.g. 400 inquiries
  per persona are 10 to each of 40 brands.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

from study.errors import StudyError

Method = Literal["schoenfeld", "freedman"]


def _z(alpha: float, power: float) -> float:
    for name, value in (("alpha", alpha), ("power", power)):
        if not 0 < value < 1:
            raise StudyError(f"{name} must be between 0 and 1 (got {value}); e.g. 0.05, 0.8")
    return NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)


def cohens_h(p1: float, p2: float) -> float:
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


def power_rates(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Probes per brand to tell response rates `p1` and `p2` apart (two-sided)."""
    for name, p in (("p1", p1), ("p2", p2)):
        if not 0 <= p <= 1:
            raise StudyError(f"{name} is a response rate between 0 and 1 (got {p}); e.g. 0.6")
    if p1 == p2:
        raise StudyError(f"the two response rates are equal ({p1}); give two different rates")
    n = 2 * (_z(alpha, power) / cohens_h(p1, p2)) ** 2
    return math.ceil(n - 1e-9)


def inquiries_per_persona(
    base_rate: float, difference: float = 0.05, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Inquiries each persona needs to detect `difference` (a proportion, 0.05 = 5 points)
    in response rate from another persona answered at `base_rate` (two-sided)."""
    if not 0 < base_rate < 1:
        raise StudyError(
            f"base_rate is a response rate between 0 and 1 (got {base_rate}); e.g. 0.6"
        )
    if difference == 0 or not 0 <= base_rate + difference <= 1:
        raise StudyError(
            f"difference must be a non-zero share that keeps {base_rate} + difference between "
            f"0 and 1 (got {difference}); e.g. 0.05 for 5 points"
        )
    return power_rates(base_rate, base_rate + difference, alpha, power)


def events_needed(
    hazard_ratio: float, alpha: float = 0.05, power: float = 0.8, method: Method = "schoenfeld"
) -> float:
    """Answers needed in both brands together for the log-rank test to detect `hazard_ratio`."""
    z = _z(alpha, power)
    if method == "schoenfeld":
        return 4 * z**2 / math.log(hazard_ratio) ** 2
    if method == "freedman":
        return ((hazard_ratio + 1) / (hazard_ratio - 1)) ** 2 * z**2
    raise StudyError(f"unknown method {method!r}; use schoenfeld or freedman")


def answered_within(median_h: float, window_h: float, answer_rate: float = 1.0) -> float:
    """The share of probes answered within the window, for exponential times."""
    return answer_rate * (1 - 2 ** (-window_h / median_h))


def power_medians(
    median1_h: float,
    median2_h: float,
    window_h: float,
    alpha: float = 0.05,
    power: float = 0.8,
    answer_rate: float | None = None,
    *,
    method: Method = "schoenfeld",
) -> int:
    """Probes per brand for the log-rank test to tell median response times apart."""
    for name, value in (("median1_h", median1_h), ("median2_h", median2_h), ("window_h", window_h)):
        if not (math.isfinite(value) and value > 0):
            raise StudyError(f"{name} must be a number of hours above 0 (got {value})")
    if median1_h == median2_h:
        raise StudyError(f"the two medians are equal ({median1_h} h); give two different ones")
    rate = 1.0 if answer_rate is None else answer_rate
    if not 0 < rate <= 1:
        raise StudyError(f"answer_rate is a share above 0 and at most 1 (got {answer_rate})")
    d = events_needed(median2_h / median1_h, alpha, power, method)
    p = answered_within(median1_h, window_h, rate) + answered_within(median2_h, window_h, rate)
    return math.ceil(d / p - 1e-9)


def power_report(
    *,
    p1: float | None = None,
    p2: float | None = None,
    median1_h: float | None = None,
    median2_h: float | None = None,
    window_h: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    answer_rate: float | None = None,
    base_rate: float | None = None,
    difference: float = 0.05,
) -> str:
    """One paragraph that says how many probes per brand (or inquiries per persona, given
    `base_rate`), and why, in words."""
    sentences = []
    level = f"a two-sided test at the {alpha:.0%} level with {power:.0%} power"
    if p1 is not None and p2 is not None:
        n = power_rates(p1, p2, alpha, power)
        sentences.append(
            f"To tell a response rate of {p1:.0%} from one of {p2:.0%} with {level}, each "
            f"brand needs {n} probes (normal approximation, Cohen's h = "
            f"{abs(cohens_h(p1, p2)):.2f})."
        )
    if median1_h is not None and median2_h is not None and window_h is not None:
        n = power_medians(median1_h, median2_h, window_h, alpha, power, answer_rate)
        hr = median2_h / median1_h
        d = math.ceil(events_needed(hr, alpha, power) - 1e-9)
        rate = 1.0 if answer_rate is None else answer_rate
        share = (
            answered_within(median1_h, window_h, rate) + answered_within(median2_h, window_h, rate)
        ) / 2
        sentences.append(
            f"To tell a median response time of {median1_h:g} h from one of {median2_h:g} h "
            f"with a {window_h:g}-hour window and {level}, the log-rank test needs about {d} "
            f"answers from the two brands together (Schoenfeld's formula, hazard ratio "
            f"{hr:.2f}); as about {share:.0%} of probes are answered within the window "
            f"(exponential response times), that is {n} probes per brand."
        )
    if base_rate is not None:
        n = inquiries_per_persona(base_rate, difference, alpha, power)
        sentences.append(
            f"To tell personas apart whose response rates differ by {abs(difference) * 100:g} "
            f"points, at a response rate of about {base_rate:.0%}, with {level}, each persona "
            f"needs {n} inquiries in all, spread evenly over the brands (normal approximation, "
            f"Cohen's h = {abs(cohens_h(base_rate, base_rate + difference)):.2f})."
        )
    if not sentences:
        raise StudyError(
            "nothing to compute; give two response rates (p1, p2), two median response "
            "times and the window (median1_h, median2_h, window_h), or a base rate"
        )
    sentences.append(
        "With fewer probes a real difference of this size would often go unnoticed; a "
        "smaller difference needs more."
    )
    return " ".join(sentences)
