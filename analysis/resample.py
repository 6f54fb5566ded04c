"""One brand's probes resampled: each resample's restricted mean time to response and
response rate, for the bootstrap of ranks (analysis.compare) and of waves (analysis.waves).

A resample is a row of indices into the brand's sample, sorted by duration with responses
before censorings. Two ways to measure it, which give the same numbers (up to rounding in
the last digits of the restricted mean):

- `resampled` (any sample): count how often the resample drew each distinct (duration,
  observed) cell and run the Kaplan-Meier curve over the cells with those counts as weights.
- `closed_resampled` (a sample whose censorings all come at or after its last response, as
  when every unanswered probe was watched for the whole window): no probe leaves the risk
  set before the last response, so the curve is one minus the share of responses so far and
  its area up to the window is the resample's mean of min(duration, window), a censored
  probe counting the window (Abel summation of the curve's steps). That is one gather and
  one sum per resample, no counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# Resamples per vectorised bootstrap step: their counts (resamples x cells) stay in cache.
_RESAMPLE_CHUNK = 250_000

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


@dataclass(frozen=True)
class Closed:
    """A sorted sample whose responses are its first rows (no censoring before the last
    response), as `closed_resampled` measures it."""

    values: Floats  # each row's duration if a response, else the window
    responses: int  # how many of the first rows are responses

    @classmethod
    def of(cls, sample: BrandSample, window_hours: float) -> Closed | None:
        """The sample as a closed one, or None when a censoring comes before a response."""
        o = sample.observed
        m = int(np.count_nonzero(o))
        if not o[:m].all():
            return None
        return cls(np.where(o, sample.durations, float(window_hours)), m)


def closed_resampled(
    closed: Closed, idx: npt.NDArray[np.integer[Any]], window_hours: float
) -> tuple[Floats, Floats]:
    """Restricted mean and response rate of each resample (a row of indices into the sample
    `closed` was made of), as `resampled` gives them."""
    rows, n = idx.shape
    if not closed.responses:
        return np.full(rows, float(window_hours)), np.zeros(rows)
    area = np.take(closed.values, idx).sum(axis=1) / n
    rate = np.count_nonzero(idx < closed.responses, axis=1) / n
    return np.asarray(area, dtype=np.float64), np.asarray(rate, dtype=np.float64)
