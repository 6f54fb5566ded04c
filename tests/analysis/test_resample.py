"""Both ways of measuring a resample (analysis.resample) give the same numbers."""

from __future__ import annotations

import numpy as np

from analysis.resample import BrandSample, Closed, closed_resampled, resampled


def sample(durations: list[float], observed: list[bool]) -> BrandSample:
    d, o = np.array(durations), np.array(observed)
    order = np.lexsort((~o, d))
    return BrandSample("b", d[order], o[order])


def test_a_closed_sample_measures_as_its_counted_cells() -> None:
    rng = np.random.default_rng(3)
    d = np.round(rng.exponential(5.0, 400) * 3600) / 3600
    answered = d < 40.0
    # censored at the window, and one open probe censored after the last response
    s = sample([*np.where(answered, d, 72.0), 41.5], [*answered, False])
    closed = Closed.of(s, 72.0)
    assert closed is not None and closed.responses == answered.sum()
    idx = rng.integers(0, len(s.durations), size=(50, len(s.durations)), dtype=np.uint32)
    rmst, rate = closed_resampled(closed, idx, 72.0)
    want_rmst, want_rate = resampled(s, idx, 72.0)
    assert np.allclose(rmst, want_rmst, rtol=1e-12, atol=0)
    assert np.array_equal(rate, want_rate)


def test_a_censoring_before_a_response_needs_the_cells() -> None:
    assert Closed.of(sample([1.0, 2.0, 3.0], [True, False, True]), 72.0) is None
    # at the same time, a response comes first: still closed
    assert Closed.of(sample([1.0, 2.0, 2.0], [True, False, True]), 72.0) is not None


def test_a_sample_without_responses_is_the_window_in_both() -> None:
    s = sample([72.0, 72.0, 30.0], [False, False, False])
    closed = Closed.of(s, 72.0)
    assert closed is not None
    idx = np.array([[0, 1, 2], [2, 2, 2]], dtype=np.uint32)
    for got, want in zip(closed_resampled(closed, idx, 72.0), resampled(s, idx, 72.0), strict=True):
        assert np.array_equal(got, want)
