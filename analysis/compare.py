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

REPLICATES = 1000
SEED = 2026
ALPHA = 0.05
_CHUNK = 4_000_000  # array elements per vectorised step, to bound memory
# Resamples per vectorised bootstrap step: their counts (resamples x cells) stay in cache.
_RESAMPLE_CHUNK = 250_000
_WORKERS = 2  # threads counting and measuring resamples

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class BrandSample:
    """One brand's sent probes: durations in hours, sorted, responses before censorings."""

    brand: str
    durations: Floats
    observed: Bools


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
    time), so a seed always gives the same resamples; two more threads count and measure the
    batches while the next are drawn (numpy lets go of the GIL in all three; counting and
    measuring cost about three times the drawing).
    """
    rng = np.random.default_rng(seed)
    rmst = np.empty((replicates, len(samples)))
    rate = np.empty((replicates, len(samples)))
    pending: deque[tuple[int, int, int, Future[tuple[Floats, Floats]]]] = deque()
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        for k, s in enumerate(samples):
            n = len(s.durations)
            cells = Cells.of(s)  # once per brand, however many steps its resamples take
            step = max(1, _RESAMPLE_CHUNK // n)
            for lo in range(0, replicates, step):
                hi = min(replicates, lo + step)
                idx = rng.integers(0, n, size=(hi - lo, n), dtype=np.uint32)
                pending.append((k, lo, hi, pool.submit(resampled, s, idx, window_hours, cells)))
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


@dataclass(frozen=True)
class Cells:
    """A sorted sample's distinct (duration, observed) cells, as a bootstrap counts them."""

    of_row: Ints  # row of the sorted sample -> its cell
    times: Floats  # each cell's duration
    responded: Bools  # whether the cell's rows are responses
    deaths: Ints  # the cells of responses (where the curve can step down), in order
    steps: Floats  # time from the previous response cell (or 0) to each of them
    # `deaths` as an index: a slice when they are a run of cells (as a rule: every cell but
    # the censored ones at the window's end), which takes a view rather than a copy
    pick: slice | Ints

    @classmethod
    def of(cls, sample: BrandSample) -> Cells:
        t, o = sample.durations, sample.observed
        first = np.r_[True, (t[1:] != t[:-1]) | (o[1:] != o[:-1])] if len(t) else np.ones(0, bool)
        times, responded = t[first], o[first]
        deaths = np.flatnonzero(responded)
        run = len(deaths) > 0 and deaths[-1] - deaths[0] == len(deaths) - 1
        pick = slice(int(deaths[0]), int(deaths[-1]) + 1) if run else deaths
        steps = np.diff(times[deaths], prepend=0)
        return cls(np.cumsum(first) - 1, times, responded, deaths, steps, pick)


def resampled(
    sample: BrandSample,
    idx: npt.NDArray[np.integer[Any]],
    window_hours: float,
    cells: Cells | None = None,
) -> tuple[Floats, Floats]:
    """Restricted mean and response rate of each resample (a row of indices into `sample`;
    `cells` are `Cells.of(sample)`, worked out here when not given).

    A resample is counted, not sorted: how often it drew each distinct (duration, observed)
    cell of the sorted sample. The Kaplan-Meier curve over the cells, with those counts as
    weights, is the resample's own (responses before censorings at equal times, as the
    sample is sorted); it steps down only at the response cells, so after one scatter and
    one running sum of the counts, the work per resample is over those cells alone.
    """
    c = Cells.of(sample) if cells is None else cells
    rows, n = idx.shape
    counts = drawn(c, idx)
    if not len(c.deaths):
        return np.full(rows, float(window_hours)), np.zeros(rows)
    # drawn at or after each cell: n - (drawn before it), in place
    at_risk = np.cumsum(counts, axis=1)
    np.subtract(n, at_risk, out=at_risk)
    at_risk += counts
    pick = c.pick
    deaths, at_risk = counts[:, pick], at_risk[:, pick]
    np.maximum(at_risk, 1, out=at_risk)
    after = np.cumprod(1 - deaths / at_risk, axis=1)
    # multiply and add rather than `@`: a BLAS call per batch wakes (and spins) its threads
    last = window_hours - c.times[c.deaths[-1]]
    area = c.steps[0] + (after[:, :-1] * c.steps[1:]).sum(axis=1) + after[:, -1] * last
    return np.asarray(area, dtype=np.float64), deaths.sum(axis=1) / n


def drawn(cells: Cells, idx: npt.NDArray[np.integer[Any]]) -> Ints:
    """How often each resample (a row of indices into the sorted sample) drew each cell."""
    rows, k = idx.shape[0], len(cells.times)
    flat = np.take(cells.of_row, idx)
    flat += (np.arange(rows) * k)[:, None]
    return np.bincount(flat.ravel(), minlength=rows * k).reshape(rows, k)


def restricted_areas(cells: Cells, after: Floats, window_hours: float) -> Floats:
    """The area up to the window under each row of `after` (`resampled_curves`)."""
    before = np.concatenate([np.ones((after.shape[0], 1)), after[:, :-1]], axis=1)
    start = np.concatenate([[0.0], cells.times[:-1]])
    area = (before * (cells.times - start)).sum(axis=1)
    return np.asarray(area + after[:, -1] * (window_hours - cells.times[-1]), dtype=np.float64)


def resampled_curves(cells: Cells, idx: npt.NDArray[np.int64]) -> tuple[Floats, Floats]:
    """Each resample's Kaplan-Meier curve over every cell (`resampled` needs only the
    response cells): the survival just after each cell, and the responses drawn in it
    (resamples x cells)."""
    n = idx.shape[1]
    counts = drawn(cells, idx).astype(np.float64)
    drawn_before = np.cumsum(counts, axis=1) - counts
    deaths = counts * cells.responded
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(deaths > 0, 1 - deaths / (n - drawn_before), 1.0)
    return np.asarray(np.cumprod(factor, axis=1), dtype=np.float64), deaths


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
    tests = pairwise_logrank(samples)
    adjusted = holm([t.p for t in tests])
    rmst = np.array([restricted_means(s.durations, s.observed, window_hours) for s in samples])
    rate = np.array([s.observed.mean() for s in samples])
    point = ranks_of(rmst, rate)
    low = high = point
    if len(samples):
        boot = bootstrap_ranks(samples, window_hours, replicates, seed)
        low, high = np.quantile(boot, [0.025, 0.975], axis=0, method="inverted_cdf")
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
