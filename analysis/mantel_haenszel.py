"""The Mantel-Haenszel risk difference of stratified 2x2 tables, with Sato's variance.

Each stratum (a brand) is one 2x2 table: `n1` probes of the compared level, `a` of them
answered; `n0` probes of the reference level, `c` of them answered; N = n1 + n0. With the
Mantel-Haenszel (Cochran) weights w = n1 n0 / N:

- the common risk difference d = sum((a n0 - c n1) / N) / sum(w), the weighted mean of the
  strata's differences a/n1 - c/n0 (Mantel and Haenszel 1959; Greenland and Robins 1985);
- its variance by Sato (1989), var = (d sum(P) + sum(Q)) / sum(w)^2 with
  P = (n1^2 c - n0^2 a + n1 n0 (n0 - n1) / 2) / N^2 and Q = (a (n0 - c) + c (n1 - a)) / (2 N),
  which stays consistent both with a few large strata and with many small ones (a few
  probes per brand: the sparse-data case of an audit design, where the large-strata
  variance of Greenland and Robins 1985 gives half the true variance at two probes per brand
  and level; tests/analysis/test_persona_effect.py); the 95% interval is d -/+ 1.96
  sqrt(var). This is what SAS PROC FREQ reports as the Mantel-Haenszel common risk
  difference (COMMONRISKDIFF; "Common Risk Difference", support.sas.com/documentation/cdl/
  en/statug/66859/HTML/default/statug_freq_details59.htm) and epiR as "MH risk difference,
  Sato";
- the Cochran-Mantel-Haenszel test that the strata's tables show no association, without
  continuity correction: sum(a - n1 m1 / N)^2 / sum(n1 n0 m1 m0 / (N^2 (N - 1))), m1 = a + c
  answered and m0 = N - m1 unanswered, chi-square with 1 degree of freedom (the test
  statsmodels' StratifiedTable.test_null_odds computes); a - n1 m1 / N = (a n0 - c n1) / N,
  so the test's numerator is the square of d's.

Zero margins. A stratum with no probes of one of the two levels (n1 = 0 or n0 = 0) has weight
0 and drops out of every sum: a brand asked by one level only says nothing about the
difference within a brand (`strata` counts the strata that take part). A stratum whose
probes were all answered or all unanswered (m0 = 0 or m1 = 0) keeps its weight: its
difference is 0 and it pulls d towards 0, as it should for a difference (unlike the odds
ratio, which such strata do not inform); it adds nothing to the test. With no stratum
holding both levels d is undefined (None). Sato's variance is 0 where no taking-part
stratum's answers vary between probes of a level (every brand answered all or none of
each level's probes, e.g. d = 0 with all answered, or d = 1: one level always answered, the
other never): the interval is then undefined (None) rather than the single point d, which
would claim a certainty the data do not give.

All sums run over strata as numpy arrays; a leading axis of comparisons (several levels
against one reference) is summed over at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from analysis.compare import chi2_p

Z95 = NormalDist().inv_cdf(0.975)
Counts = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RiskDifference:
    """One Mantel-Haenszel risk difference: the compared level's rate minus the reference's."""

    difference: float | None
    low: float | None  # 95% interval, Sato's variance; None where undefined (see module)
    high: float | None
    variance: float | None
    chi2: float | None  # the CMH test of no association (1 df), no continuity correction
    p: float | None
    strata: int  # strata holding both levels (the brands that inform the difference)


def risk_differences(
    n1: npt.ArrayLike, a: npt.ArrayLike, n0: npt.ArrayLike, c: npt.ArrayLike
) -> list[RiskDifference]:
    """The Mantel-Haenszel risk difference of each row of tables (comparisons x strata).

    `n1`, `a`, `n0`, `c` are counts per stratum (1-d: one comparison) or per comparison and
    stratum (2-d); `a` of `n1` answered in the compared level, `c` of `n0` in the reference.
    """
    n1_, a_, n0_, c_ = (np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in (n1, a, n0, c))
    big_n = n1_ + n0_
    both = (n1_ > 0) & (n0_ > 0)
    safe_n = np.where(both, big_n, 1.0)
    w = np.where(both, n1_ * n0_ / safe_n, 0.0)
    num = np.where(both, (a_ * n0_ - c_ * n1_) / safe_n, 0.0)
    p_term = np.where(
        both, (n1_**2 * c_ - n0_**2 * a_ + n1_ * n0_ * (n0_ - n1_) / 2) / safe_n**2, 0.0
    )
    q_term = np.where(both, (a_ * (n0_ - c_) + c_ * (n1_ - a_)) / (2 * safe_n), 0.0)
    m1 = a_ + c_
    hyper = np.where(
        both & (big_n > 1),
        n1_ * n0_ * m1 * (big_n - m1) / (safe_n**2 * np.where(big_n > 1, big_n - 1, 1.0)),
        0.0,
    )
    out = []
    for sum_w, sum_num, sum_p, sum_q, sum_hyper, strata in zip(
        w.sum(axis=1),
        num.sum(axis=1),
        p_term.sum(axis=1),
        q_term.sum(axis=1),
        hyper.sum(axis=1),
        both.sum(axis=1),
        strict=True,
    ):
        out.append(_summary(sum_w, sum_num, sum_p, sum_q, sum_hyper, int(strata)))
    return out


def _summary(
    sum_w: float, sum_num: float, sum_p: float, sum_q: float, sum_hyper: float, strata: int
) -> RiskDifference:
    """One comparison's difference, interval and test from its strata's sums."""
    if strata == 0:
        return RiskDifference(None, None, None, None, None, None, 0)
    d = float(sum_num / sum_w)
    var = float((d * sum_p + sum_q) / sum_w**2)
    low = high = variance = None
    if var > 0:
        half = Z95 * math.sqrt(var)
        low, high, variance = d - half, d + half, var
    chi2 = p = None
    if sum_hyper > 0:
        chi2 = float(sum_num**2 / sum_hyper)
        p = chi2_p(chi2)
    return RiskDifference(d, low, high, variance, chi2, p, strata)
