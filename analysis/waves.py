"""Two waves of a study (or any two studies of the same brands) compared: what changed, and
whether the change is more than noise.

Brands are matched by id; only the brands both studies asked are compared, so the overall
and per-country figures are those of the same brands in both (brands and countries in one
study only are listed, not compared). Every change is the NEW study's figure minus the OLD
one's, with a 95% interval:

- Response rate: Newcombe's hybrid score interval for a difference of two independent
  proportions (Newcombe 1998, method 10), built from each wave's Wilson interval.
- Kaplan-Meier median and restricted mean time to response (the area under the curve up to
  the window; both studies need the same window): percentile intervals of a bootstrap that
  resamples each wave's probes of the group independently (seeded, `replicates` times),
  counting distinct cells (analysis.resample), as the rank bootstrap does. A resample whose
  curve never reaches one half has its median beyond the window (infinite); an interval
  bound that is infinite is reported as null (open), and resample pairs with both medians
  beyond the window are left out of the median's interval. Where either wave's own median
  is beyond the window, the median's change has no size: null, with no interval.
- Ranks: each wave's brands (the shared ones) are ranked with bootstrap rank intervals as
  `analyze` ranks them; a brand's rank changed beyond the rank intervals when its two 95%
  intervals do not overlap.

A change whose interval excludes zero is flagged `excludes_zero`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from analysis.compare import REPLICATES, SEED, comparisons
from analysis.metrics import TOLERANCE
from analysis.outcomes import prepare, sql_text
from analysis.resample import (
    _RESAMPLE_CHUNK,
    BrandSample,
    Cells,
    Floats,
    resampled_curves,
    restricted_areas,
)
from study.errors import StudyError
from study.timeutil import iso

Z95 = NormalDist().inv_cdf(0.975)
DIGITS = 4
MEASURES = ("response_rate", "median_hours", "restricted_mean_hours")


@dataclass(frozen=True)
class WaveData:
    """One study's sent probes, sorted by duration with responses before censorings."""

    name: str
    wave: int | None  # from study.toml; None for an imported study
    as_of: str
    window_hours: float
    brand: np.ndarray[Any, np.dtype[np.str_]]
    country: np.ndarray[Any, np.dtype[np.str_]]
    durations: Floats
    observed: np.ndarray[Any, np.dtype[np.bool_]]

    def sample(self, label: str, mask: np.ndarray[Any, np.dtype[np.bool_]]) -> BrandSample:
        return BrandSample(label, self.durations[mask], self.observed[mask])


def read_wave(study_dir: Path) -> WaveData:
    """A study's sent probes at its last observation (wave_durations.sql)."""
    from study.load import TOML_FILE, load_study

    wave = load_study(study_dir).wave if (study_dir / TOML_FILE).is_file() else None
    prepared = prepare(study_dir, None)
    try:
        table = prepared.con.execute(sql_text("wave_durations")).fetchnumpy()
    finally:
        prepared.con.close()
    return WaveData(
        name=prepared.info.name,
        wave=wave,
        as_of=iso(prepared.as_of),
        window_hours=prepared.info.window_hours,
        brand=np.asarray(table["brand"]).astype(str),
        country=np.asarray(table["country"]).astype(str),
        durations=np.asarray(table["duration_hours"], dtype=np.float64),
        observed=np.asarray(table["observed"], dtype=np.bool_),
    )


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson's 95% score interval of the proportion k/n (n > 0)."""
    p, z2 = k / n, Z95 * Z95
    centre = (k + z2 / 2) / (n + z2)
    half = Z95 * math.sqrt(n * p * (1 - p) + z2 / 4) / (n + z2)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k_old: int, n_old: int, k_new: int, n_new: int) -> tuple[float, float, float]:
    """The change in proportion k_new/n_new - k_old/n_old and Newcombe's hybrid score 95%
    interval (method 10 of Newcombe 1998)."""
    p1, p2 = k_old / n_old, k_new / n_new
    l1, u1 = wilson(k_old, n_old)
    l2, u2 = wilson(k_new, n_new)
    d = p2 - p1
    return d, d - math.hypot(p2 - l2, u1 - p1), d + math.hypot(u2 - p2, p1 - l1)


def medians(cells: Cells, after: Floats) -> Floats:
    """The Kaplan-Meier median of each row of `after` (`resampled_curves`): the first cell
    at which the curve is at or below one half (as km_summary.sql), else infinity."""
    reached = after <= 0.5 + TOLERANCE
    first = np.argmax(reached, axis=1)
    return np.where(reached.any(axis=1), cells.times[first], np.inf)


def km_figures(
    sample: BrandSample, window_hours: float, idx: np.ndarray[Any, np.dtype[np.int64]]
) -> tuple[Floats, Floats]:
    """Median and restricted mean of each resample of `sample` (rows of indices)."""
    cells = Cells.of(sample)
    after, _ = resampled_curves(cells, idx)
    return medians(cells, after), restricted_areas(cells, after, window_hours)


def bootstrap_km(
    sample: BrandSample, window_hours: float, replicates: int, rng: np.random.Generator
) -> tuple[Floats, Floats]:
    """Median and restricted mean of `replicates` resamples of `sample` (drawn from `rng`
    in steps that keep each step's counts small, as analysis.compare.bootstrap_ranks)."""
    n = len(sample.durations)
    cells = Cells.of(sample)
    median, rmst = np.empty(replicates), np.empty(replicates)
    step = max(1, _RESAMPLE_CHUNK // n)
    for lo in range(0, replicates, step):
        hi = min(replicates, lo + step)
        after, _ = resampled_curves(cells, rng.integers(0, n, size=(hi - lo, n)))
        median[lo:hi], rmst[lo:hi] = (
            medians(cells, after),
            restricted_areas(cells, after, window_hours),
        )
    return median, rmst


def change(
    old: BrandSample,
    new: BrandSample,
    window_hours: float,
    replicates: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """One group's figures in both waves and their changes with 95% intervals (floats not
    rounded; None where a figure does not exist)."""
    k_old, n_old = int(old.observed.sum()), len(old.observed)
    k_new, n_new = int(new.observed.sum()), len(new.observed)
    out: dict[str, Any] = {"old": {}, "new": {}}
    point: dict[str, tuple[Floats, Floats]] = {}
    for side, s, k, n in (("old", old, k_old, n_old), ("new", new, k_new, n_new)):
        median, rmst = km_figures(s, window_hours, np.arange(n)[None, :])
        point[side] = (median, rmst)
        out[side] = {
            "probes": n,
            "answered": k,
            "response_rate": k / n,
            "median_hours": _finite(median[0]),
            "restricted_mean_hours": float(rmst[0]),
        }
    out["response_rate"] = _interval(*newcombe(k_old, n_old, k_new, n_new))
    boot_old = bootstrap_km(old, window_hours, replicates, rng)
    boot_new = bootstrap_km(new, window_hours, replicates, rng)
    for m, name in enumerate(("median_hours", "restricted_mean_hours")):
        with np.errstate(invalid="ignore"):  # inf - inf: both beyond the window
            estimate = point["new"][m][0] - point["old"][m][0]
            diffs = boot_new[m] - boot_old[m]  # inf - inf: both beyond the window, left out
        if not math.isfinite(estimate) or np.isnan(diffs).all():
            low = high = math.nan  # a median beyond the window: a change that has no size
        else:
            low, high = np.nanquantile(diffs, [0.025, 0.975], method="inverted_cdf")
        out[name] = _interval(float(estimate), float(low), float(high))
    return out


def compare_waves(
    old_dir: Path,
    new_dir: Path,
    *,
    replicates: int = REPLICATES,
    seed: int = SEED,
) -> dict[str, Any]:
    """Every change from the study in `old_dir` to the one in `new_dir`, JSON-ready (floats
    rounded to 4 decimals; see the module docstring for the methods).

    Shape: {"old": {name, wave, as_of, sent}, "new": {...}, "window_hours", "brands" and
    "countries": {both, only_old, only_new}, "changes": {overall, brand, country: [{key
    columns, old, new, response_rate, median_hours, restricted_mean_hours}]}, "ranks":
    [{brand, old, new: {rank, rank_low, rank_high}, changed}], "bootstrap_replicates",
    "seed"}. StudyError for a missing journal, different windows or no shared brand.
    """
    old, new = read_wave(old_dir), read_wave(new_dir)
    if old.window_hours != new.window_hours:
        raise StudyError(
            f"{old_dir} watches each probe for {old.window_hours:g} hours, {new_dir} for "
            f"{new.window_hours:g}: restricted means over different windows cannot be "
            "compared; compare studies with the same window_hours"
        )
    brands = _split(set(old.brand), set(new.brand))
    if not brands["both"]:
        raise StudyError(
            f"{old_dir} and {new_dir} have no brand in common (brands are matched by id); "
            "compare two waves of the same study"
        )
    keep_old, keep_new = np.isin(old.brand, brands["both"]), np.isin(new.brand, brands["both"])
    countries = _split(set(old.country[keep_old]), set(new.country[keep_new]))
    ranks = _rank_changes(old, new, brands["both"], replicates, seed)
    rng = np.random.default_rng(seed)
    window = old.window_hours
    groups: list[tuple[str, str, Any, Any]] = [("overall", "", keep_old, keep_new)]
    groups += [("brand", b, old.brand == b, new.brand == b) for b in [r["brand"] for r in ranks]]
    groups += [
        ("country", c, keep_old & (old.country == c), keep_new & (new.country == c))
        for c in countries["both"]
    ]
    changes: dict[str, list[dict[str, Any]]] = {"overall": [], "brand": [], "country": []}
    for grouping, key, m_old, m_new in groups:
        row = change(old.sample(key, m_old), new.sample(key, m_new), window, replicates, rng)
        changes[grouping].append({**({grouping: key} if key else {}), **_rounded(row)})
    return {
        "old": _about(old, keep_old),
        "new": _about(new, keep_new),
        "window_hours": window,
        "brands": brands,
        "countries": countries,
        "changes": changes,
        "ranks": ranks,
        "bootstrap_replicates": replicates,
        "seed": seed,
    }


def _rank_changes(
    old: WaveData, new: WaveData, brands: Sequence[str], replicates: int, seed: int
) -> list[dict[str, Any]]:
    """Each shared brand's rank and 95% rank interval in both waves, in the new wave's rank
    order, and whether the two intervals do not overlap."""
    ranked = []
    for w in (old, new):
        samples = [w.sample(b, w.brand == b) for b in brands]
        found = comparisons(samples, w.window_hours, replicates=replicates, seed=seed)["ranks"]
        keys = ("rank", "rank_low", "rank_high")
        ranked.append({r["brand"]: {k: r[k] for k in keys} for r in found})
    before, after = ranked
    order = sorted(brands, key=lambda b: (after[b]["rank"], b))
    return [
        {
            "brand": b,
            "old": before[b],
            "new": after[b],
            "changed": after[b]["rank_high"] < before[b]["rank_low"]
            or after[b]["rank_low"] > before[b]["rank_high"],
        }
        for b in order
    ]


def _split(old_ids: set[str], new_ids: set[str]) -> dict[str, list[str]]:
    old, new = {str(x) for x in old_ids}, {str(x) for x in new_ids}
    return {
        "both": sorted(old & new),
        "only_old": sorted(old - new),
        "only_new": sorted(new - old),
    }


def _about(w: WaveData, kept: np.ndarray[Any, np.dtype[np.bool_]]) -> dict[str, Any]:
    return {"name": w.name, "wave": w.wave, "as_of": w.as_of, "sent": int(kept.sum())}


def _interval(estimate: float, low: float, high: float) -> dict[str, Any]:
    """A change with its interval; infinite or missing bounds are open (None)."""
    return {
        "change": _finite(estimate),
        "low": _finite(low),
        "high": _finite(high),
        "excludes_zero": bool(low > 0 or high < 0),
    }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, DIGITS) + 0.0
    return value
