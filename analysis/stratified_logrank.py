"""The stratified log-rank test of time to first response between two or more groups.

Within each stratum (a brand) and at each of its distinct response times t: every group's
probes still at risk (duration >= t: responses at t come before censorings at t, as in
km_steps.sql) and its responses at t. Summed over the strata's response times, with
n = all at risk, d = all responses, r_g = group g's share of those at risk:

    O_g - E_g = sum(d_g - d r_g)
    V_gh      = sum(d (n - d) / (n - 1) (r_g [g = h] - r_g r_h))    (hypergeometric, Mantel)

and the statistic U' V'^+ U' over all groups but the last (U = O - E; the choice of the
dropped group does not matter; the pseudo-inverse and the rank of V' as degrees of freedom
cover a group that never meets another at risk), chi-square with groups - 1 degrees of
freedom. Each stratum has its own risk sets, so a brand that answers everyone fast does not
make the groups it was asked by look fast (Peto et al. 1977; Collett, Modelling Survival
Data in Medical Research, 3rd ed., section 2.7; R's survdiff with strata(), statsmodels'
survdiff(strata=...)). Unanswered probes are censored at their duration (the window's end,
or the as-of time for probes still open), never dropped.

Vectorised: one np.unique over (stratum, duration) cells, counts per cell and group by
bincount, risk sets by a reverse cumulative sum within each stratum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LogRankTest:
    """A stratified log-rank test: the statistic, its degrees of freedom, the p-value, and
    each group's observed and expected responses (None where no group can be compared)."""

    chi2: float | None
    df: int
    p: float | None
    observed: tuple[float, ...]
    expected: tuple[float, ...]


def chi2_sf(x: float, df: int) -> float:
    """The upper tail of the chi-square distribution with `df` (>= 1) degrees of freedom.

    Closed forms for whole degrees of freedom (Abramowitz and Stegun 26.4.4 and 26.4.5): even
    df, exp(-x/2) sum_{i < df/2} (x/2)^i / i!; odd df, 2 (1 - Phi(sqrt x)) plus
    exp(-x/2) sum_{i = 1 .. (df-1)/2} (x/2)^(i - 1/2) / Gamma(i + 1/2).
    """
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:
        terms = (i * math.log(half) - math.lgamma(i + 1) for i in range(df // 2))
        total = sum(math.exp(t - half) for t in terms)
    else:
        total = math.erfc(math.sqrt(half))  # 2 (1 - Phi(sqrt x))
        terms = ((i - 0.5) * math.log(half) - math.lgamma(i + 0.5) for i in range(1, df // 2 + 1))
        total += sum(math.exp(t - half) for t in terms)
    return min(1.0, max(0.0, total))


def stratified_logrank(
    durations: npt.ArrayLike,
    observed: npt.ArrayLike,
    group: npt.ArrayLike,
    stratum: npt.ArrayLike,
    groups: int,
) -> LogRankTest:
    """The log-rank test of `groups` groups (codes 0 .. groups-1 in `group`), stratified by
    `stratum` (integer codes), from one row per probe: its duration and whether a response
    was observed at it (otherwise censored there)."""
    t = np.asarray(durations, dtype=np.float64)
    event = np.asarray(observed, dtype=np.bool_)
    g = np.asarray(group, dtype=np.int64)
    s = np.asarray(stratum, dtype=np.int64)
    if not len(t):
        return LogRankTest(None, 0, None, (0.0,) * groups, (0.0,) * groups)
    rank = np.unique(t, return_inverse=True)[1].reshape(-1).astype(np.int64)
    stride = int(rank.max()) + 1
    cells, cell = np.unique(s * stride + rank, return_inverse=True)
    cell = cell.reshape(-1)
    size = len(cells) * groups
    key = cell * groups + g
    total = np.bincount(key, minlength=size).reshape(-1, groups).astype(np.float64)
    events = np.bincount(key, weights=event, minlength=size).reshape(-1, groups).astype(np.float64)
    # at risk at a cell: probes of its stratum at that cell or later; the running sum from the
    # end runs over all strata, so take off what lies beyond the cell's stratum
    later = np.vstack([np.cumsum(total[::-1], axis=0)[::-1], np.zeros((1, groups))])
    owner = cells // stride
    beyond = np.searchsorted(owner, owner, side="right")
    at_risk = later[:-1] - later[beyond]
    return _test(at_risk, events)


def _test(at_risk: Floats, events: Floats) -> LogRankTest:
    """The statistic from each cell's probes at risk and responses per group (cells x groups)."""
    d = events.sum(axis=1)
    keep = d > 0
    at_risk, events, d = at_risk[keep], events[keep], d[keep]
    n = at_risk.sum(axis=1)
    r = at_risk / n[:, None]
    observed = events.sum(axis=0)
    expected = (d[:, None] * r).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    v = np.diag((f[:, None] * r).sum(axis=0)) - np.einsum("c,cg,ch->gh", f, r, r)
    u = (observed - expected)[:-1]
    v = v[:-1, :-1]
    df = int(np.linalg.matrix_rank(v)) if v.size else 0
    obs, exp = tuple(observed.tolist()), tuple(expected.tolist())
    if df == 0:
        return LogRankTest(None, 0, None, obs, exp)
    chi2 = max(0.0, float(u @ np.linalg.pinv(v) @ u))
    return LogRankTest(chi2, df, chi2_sf(chi2, df), obs, exp)
