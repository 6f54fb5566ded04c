"""Comparisons between brands: log-rank tests, bootstrap intervals of ranks, and tiers.

- Pairwise log-rank tests of time to first response (Mantel's hypergeometric variance;
  ties as in km_steps.sql, responses before censorings), chi-square with 1 degree of
  freedom, p-values Holm-adjusted over all pairs. A pair with no response at all has
  nothing to test: chi2 = 0, p = 1.
- Ranks: by restricted mean time to response (the area under the Kaplan-Meier curve up to
  the window; lower is better), ties by response rate (higher is better), then by brand
  name. The 95% interval of each brand's rank comes from a bootstrap that resamples probes
  within each brand (seeded, `replicates` times) and re-ranks all brands every time: the
  2.5th and 97.5th percentiles of its ranks (inverted CDF, so they are ranks).
- Tiers: brands that cannot be told apart. Walk the brands in rank order; a brand joins the
  current tier unless it differs significantly (Holm-adjusted log-rank p < 0.05) from the
  tier's first (best) brand, in which case it opens the next tier.

The point estimates here equal `restricted_mean_hours` and `response_rate` of the brand
groups in group_metrics.sql; everything runs on per-brand numpy arrays, vectorised over
replicates and over the other brand of a pair.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from analysis.outcomes import sql_text
from analysis.resample import (
    _RESAMPLE_CHUNK,
    Bools,
    BrandSample,
    Cells,
    Closed,
    Floats,
    Ints,
    closed_resampled,
    resampled,
)

REPLICATES = 1000
SEED = 2026
ALPHA = 0.05
_CHUNK = 4_000_000  # array elements per vectorised step, to bound memory
_WORKERS = 2  # threads counting and measuring resamples


@dataclass(frozen=True)
class LogRank:
    a: str
    b: str
    chi2: float
    p: float


def brand_samples(con: duckdb.DuckDBPyConnection) -> list[BrandSample]:
    """Every brand's durations and observed flags from `outcomes` (brand_durations.sql)."""
    table = con.sql(sql_text("brand_durations")).to_arrow_table()
    if table.num_rows == 0:
        return []
    # brands as codes, not a Python string per probe (a corpus has a million probes)
    coded = table["brand"].combine_chunks().dictionary_encode()
    codes = coded.indices.to_numpy()
    names = coded.dictionary.to_pylist()
    durations = np.asarray(table["duration_hours"].to_numpy(), dtype=np.float64)
    observed = np.asarray(table["observed"].to_numpy(), dtype=np.bool_)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.append(starts[1:], len(codes))
    return [
        BrandSample(str(names[codes[s]]), durations[s:e], observed[s:e])
        for s, e in zip(starts, ends, strict=True)
    ]


def chi2_p(chi2: float) -> float:
    """Upper tail of the chi-square distribution with 1 degree of freedom."""
    return math.erfc(math.sqrt(chi2 / 2))


def pairwise_logrank(samples: Sequence[BrandSample]) -> list[LogRank]:
    """Log-rank tests for every pair (a, b) with a before b in `samples`' order.

    A pair's statistic only moves at the two brands' own response times, so each pair costs
    O(n_a + n_b): brand a's response times against every later brand b at once, then each
    b's response times at which a has none.
    """
    if len(samples) < 2:
        return []
    table = _RiskTable(samples)
    out: list[LogRank] = []
    for i, a in enumerate(samples[:-1]):
        chi2 = table.chi2_against_later(i).tolist()
        for b, c in zip(samples[i + 1 :], chi2, strict=True):
            out.append(LogRank(a.brand, b.brand, c, chi2_p(c)))
    return out


def holm(p: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values (Holm 1979), in the input's order."""
    values = np.asarray(p, dtype=np.float64)
    m = len(values)
    order = np.argsort(values, kind="stable")
    adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * values[order]))
    out = np.empty(m)
    out[order] = adjusted
    return [float(x) for x in out]


def restricted_means(durations: Floats, observed: Bools, window_hours: float) -> Floats:
    """Area under each row's Kaplan-Meier curve from 0 to the window (rows sorted by time).

    Each row is one sample, sorted by duration with responses before censorings; the
    per-position factors (1 - 1/r) telescope to the curve's steps, ties included.
    """
    n = durations.shape[-1]
    at_risk = n - np.arange(n, dtype=np.float64)
    factor = np.where(observed, (at_risk - 1) / at_risk, 1.0)
    after = np.cumprod(factor, axis=-1)
    before = np.concatenate([np.ones_like(after[..., :1]), after[..., :-1]], axis=-1)
    start = np.concatenate([np.zeros_like(durations[..., :1]), durations[..., :-1]], axis=-1)
    area = (before * (durations - start)).sum(axis=-1)
    return np.asarray(area + after[..., -1] * (window_hours - durations[..., -1]))


def ranks_of(rmst: Floats, rate: Floats) -> npt.NDArray[np.int64]:
    """Ranks (1 = best) of brands along the last axis: lower RMST, then higher rate, then index."""
    index = np.broadcast_to(np.arange(rmst.shape[-1]), rmst.shape)
    order = np.lexsort((index, -rate, rmst), axis=-1)
    return np.asarray(np.argsort(order, axis=-1) + 1, dtype=np.int64)


def bootstrap_ranks(
    samples: Sequence[BrandSample], window_hours: float, replicates: int, seed: int
) -> npt.NDArray[np.int64]:
    """Ranks of every brand in every replicate (replicates x brands).

    One generator draws every resample in order (brand by brand, a batch of replicates at a
    time), so a seed always gives the same resamples; two more threads measure the batches
    while the next are drawn (numpy lets go of the GIL in all three): by `closed_resampled`
    where the brand's censorings all follow its last response, which costs less than the
    drawing, else by counting them into cells (`resampled`, three times the drawing).
    """
    rng = np.random.default_rng(seed)
    rmst = np.empty((replicates, len(samples)))
    rate = np.empty((replicates, len(samples)))
    pending: deque[tuple[int, int, int, Future[tuple[Floats, Floats]]]] = deque()
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        for k, s in enumerate(samples):
            n = len(s.durations)
            # once per brand, however many steps its resamples take
            closed = Closed.of(s, window_hours)
            cells = Cells.of(s) if closed is None else None
            step = max(1, _RESAMPLE_CHUNK // n)
            for lo in range(0, replicates, step):
                hi = min(replicates, lo + step)
                idx = rng.integers(0, n, size=(hi - lo, n), dtype=np.uint32)
                measured = (
                    pool.submit(resampled, s, idx, window_hours, cells)
                    if closed is None
                    else pool.submit(closed_resampled, closed, idx, window_hours)
                )
                pending.append((k, lo, hi, measured))
                while len(pending) > 2 * _WORKERS:  # batches in flight bound the memory
                    _store(pending.popleft(), rmst, rate)
        while pending:
            _store(pending.popleft(), rmst, rate)
    return ranks_of(rmst, rate)


def _store(
    done: tuple[int, int, int, Future[tuple[Floats, Floats]]], rmst: Floats, rate: Floats
) -> None:
    k, lo, hi, future = done
    rmst[lo:hi, k], rate[lo:hi, k] = future.result()


def tiers(order: Sequence[str], significant: dict[tuple[str, str], bool]) -> dict[str, int]:
    """Tier of each brand (see the module docstring); `order` is the rank order."""
    out: dict[str, int] = {}
    tier, head = 0, ""
    for brand in order:
        if tier == 0 or significant[_pair(head, brand)]:
            tier, head = tier + 1, brand
        out[brand] = tier
    return out


def comparisons(
    samples: Sequence[BrandSample],
    window_hours: float,
    *,
    replicates: int = REPLICATES,
    seed: int = SEED,
) -> dict[str, Any]:
    """Pairwise tests, rank intervals and tiers, as JSON-ready data (floats not rounded)."""
    rmst = np.array([restricted_means(s.durations, s.observed, window_hours) for s in samples])
    rate = np.array([s.observed.mean() for s in samples])
    point = ranks_of(rmst, rate)
    low = high = point
    # the tests in a thread of their own, on the core the bootstrap's drawing leaves
    with ThreadPoolExecutor(max_workers=1) as pool:
        testing = pool.submit(pairwise_logrank, samples)
        if len(samples):
            boot = bootstrap_ranks(samples, window_hours, replicates, seed)
            low, high = np.quantile(boot, [0.025, 0.975], axis=0, method="inverted_cdf")
        tests = testing.result()
    adjusted = holm([t.p for t in tests])
    by_rank = sorted(range(len(samples)), key=lambda k: int(point[k]))
    order = [samples[k].brand for k in by_rank]
    significant = {_pair(t.a, t.b): q < ALPHA for t, q in zip(tests, adjusted, strict=True)}
    tier_of = tiers(order, significant)
    return {
        "pairwise": [
            {"a": t.a, "b": t.b, "chi2": t.chi2, "p": t.p, "p_holm": q}
            for t, q in zip(tests, adjusted, strict=True)
        ],
        "ranks": [
            {
                "brand": samples[k].brand,
                "rank": int(point[k]),
                "rank_low": int(low[k]),
                "rank_high": int(high[k]),
            }
            for k in by_rank
        ],
        "tiers": [{"brand": b, "tier": tier_of[b]} for b in order],
        "rank_metric": "restricted_mean_hours",
        "bootstrap_replicates": replicates,
        "seed": seed,
    }


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class _RiskTable:
    """Every brand's probes and distinct response times, for log-rank tests of any pair.

    A probe is keyed by its brand and the rank of its duration among all distinct durations
    (brand x stride + rank): one sorted integer array for all brands, in which a brand's
    probes still at risk at a time, or its responses then, are found by binary search.
    """

    def __init__(self, samples: Sequence[BrandSample]) -> None:
        sizes = np.array([len(s.durations) for s in samples], dtype=np.int64)
        durations = np.concatenate([s.durations for s in samples])
        observed = np.concatenate([s.observed for s in samples])
        rank = np.unique(durations, return_inverse=True)[1].reshape(-1).astype(np.int64)
        self.stride = int(rank.max()) + 1 if len(rank) else 1
        brand = np.repeat(np.arange(len(samples), dtype=np.int64), sizes)
        self.keys: Ints = brand * self.stride + rank  # sorted, as each brand's durations
        self.ends: Ints = np.cumsum(sizes)
        self.starts: Ints = self.ends - sizes
        # distinct (brand, response time) keys, the responses then, and the brand's at-risk
        self.times, deaths = np.unique(self.keys[observed], return_counts=True)
        self.deaths: Ints = deaths.astype(np.int64)
        own = self.times // self.stride
        self.at_risk: Ints = self.ends[own] - np.searchsorted(self.keys, self.times)
        self.firsts: Ints = np.searchsorted(
            self.times, np.arange(len(samples) + 1, dtype=np.int64) * self.stride
        )

    def chi2_against_later(self, i: int) -> Floats:
        """Log-rank chi-square of brand i against each brand after it."""
        m = len(self.ends) - i - 1
        expected, var = np.zeros(m), np.zeros(m)
        lo, hi = self.firsts[i], self.firsts[i + 1]
        rank_a = self.times[lo:hi] - i * self.stride
        d_a, n_a = self.deaths[lo:hi], self.at_risk[lo:hi]
        later = np.arange(i + 1, len(self.ends), dtype=np.int64)
        # at a's response times, every later brand b at once (rows)
        step = max(1, _CHUNK // max(1, len(rank_a)))
        for s in range(0, m, step):
            b = later[s : s + step]
            q = (b * self.stride)[:, None] + rank_a
            n_b = self.ends[b][:, None] - np.searchsorted(self.keys, q)
            e, v = _terms(n_a, d_a + _count_at(self.times, self.deaths, q), n_a + n_b)
            expected[s : s + step], var[s : s + step] = e.sum(axis=-1), v.sum(axis=-1)
        # at each later brand's response times at which a has none
        ranks_a = self.keys[self.starts[i] : self.ends[i]] - i * self.stride
        for s in range(int(hi), int(self.firsts[-1]), _CHUNK):
            times = self.times[s : s + _CHUNK]
            b = times // self.stride
            rank = times - b * self.stride
            alone = _count_at(rank_a, d_a, rank) == 0
            n_at = len(ranks_a) - np.searchsorted(ranks_a, rank[alone])
            d_b = self.deaths[s : s + _CHUNK][alone]
            e, v = _terms(n_at, d_b, n_at + self.at_risk[s : s + _CHUNK][alone])
            expected += np.bincount(b[alone] - i - 1, e, minlength=m)
            var += np.bincount(b[alone] - i - 1, v, minlength=m)
        with np.errstate(divide="ignore", invalid="ignore"):
            chi2 = np.where(var > 0, (d_a.sum() - expected) ** 2 / var, 0.0)
        return np.asarray(chi2, dtype=np.float64)


def _count_at(keys: Ints, counts: Ints, query: Ints) -> Ints:
    """`counts` of the `query` values found in the sorted, distinct `keys`; 0 elsewhere."""
    if not len(keys):
        return np.zeros_like(query)
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[at] == query, counts[at], 0)


def _terms(n_a: Ints, d: Ints, n: Ints) -> tuple[Floats, Floats]:
    """Each response time's expected responses of brand a and their (hypergeometric) variance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, n_a / n, 0.0)
        var = np.where(n > 1, d * share * (1 - share) * (n - d) / (n - 1), 0.0)
    return np.asarray(d * share, dtype=np.float64), np.asarray(var, dtype=np.float64)
