"""The persona effect: whether brands answer some personas (or attribute levels) more often
or faster than others, within the same brands.

From one row per sent probe (the outcomes table, or any frame with a level column such as
`persona`, `country` or `gender`, the stratum column `brand`, `observed` and a duration):

- each level's response rate with its Wilson 95% interval (analysis.waves.wilson, the
  interval of every response rate replybench reports), and how many brands it asked;
- each level against one reference level: the Mantel-Haenszel risk difference stratified by
  brand with Sato's 95% interval and the Cochran-Mantel-Haenszel test
  (analysis.mantel_haenszel), and the two levels' stratified log-rank test of time to first
  response (analysis.stratified_logrank);
- the stratified log-rank test of all levels together (levels - 1 degrees of freedom).

"Answered" is `observed`: a first response within the window by the as-of time, as in
response_rate: probes still open count as unanswered so far in the rates and the
differences, and as censored at their duration in the log-rank tests. Unanswered probes
are censored, never dropped. Probes without a level (an attribute a persona does not have)
are left out of that grouping only, and counted (`unknown`).

The reference level is `reference` if given, else the level with the most probes (the
first in sort order among equals): it takes part in every comparison, so the most precise
one makes every difference as precise as it can be. Differences are the level's rate
minus the reference's, in proportions (0.06 = 6 points). No adjustment for several
comparisons: with more than two levels, read the all-levels log-rank test first.

Why stratify by brand: brands differ far more than personas do, and a design rarely asks
every brand equally often through every persona; comparing within brands keeps a persona
that happened to ask more responsive brands from looking favoured. Only brands asked by
both levels inform a difference: where each brand is asked by a single persona (a
`by_country` design with one persona per country) no difference can be estimated and the
effect is None, however many probes there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.mantel_haenszel import RiskDifference, risk_differences
from analysis.stratified_logrank import LogRankTest, stratified_logrank
from analysis.waves import wilson
from study.errors import StudyError


@dataclass(frozen=True)
class LevelRate:
    """One level's probes, answers and response rate with its Wilson 95% interval."""

    level: str
    probes: int
    answered: int
    brands: int
    response_rate: float
    response_rate_low: float
    response_rate_high: float


@dataclass(frozen=True)
class Effect:
    """One level against the reference: the brand-stratified difference in response rate
    (level minus reference, a proportion) with its 95% interval and tests."""

    level: str
    reference: str
    difference: float | None
    difference_low: float | None
    difference_high: float | None
    cmh_chi2: float | None
    cmh_p: float | None
    brands: int  # brands asked by both levels: the ones that inform the difference
    probes: int  # the two levels' probes to those brands
    logrank_chi2: float | None
    logrank_p: float | None


@dataclass(frozen=True)
class PersonaEffects:
    """A grouping's levels, each level's effect against the reference, and the all-levels
    log-rank test, with the sample sizes they come from."""

    grouping: str
    reference: str | None
    probes: int  # probes with a level
    unknown: int  # probes without one, left out of this grouping
    levels: tuple[LevelRate, ...]
    effects: tuple[Effect, ...]
    logrank: LogRankTest

    def to_json(self) -> dict[str, Any]:
        """The numbers as plain JSON values (None where undefined), for analyze's JSON."""
        out = asdict(self)
        out["levels"] = [asdict(r) for r in self.levels]
        out["effects"] = [asdict(e) for e in self.effects]
        names = [r.level for r in self.levels]
        test = self.logrank
        out["logrank"] = {
            "chi2": test.chi2,
            "df": test.df,
            "p": test.p,
            "answered": dict(zip(names, test.observed, strict=True)),
            "expected": dict(zip(names, test.expected, strict=True)),
        }
        return out


def persona_effects(
    probes: pd.DataFrame | pa.Table,
    by: str = "persona",
    *,
    reference: str | None = None,
    stratum: str = "brand",
    observed: str = "observed",
    duration: str = "duration_hours",
) -> PersonaEffects:
    """The response rate of every level of column `by`, and every level's effect against
    `reference` (default: the level with the most probes), stratified by `stratum`."""
    frame = _columns(probes, (by, stratum, observed, duration))
    level_codes, level_values = pd.factorize(frame[by], sort=True)
    levels = [str(v) for v in level_values]
    known = level_codes >= 0
    frame, g = frame[known], level_codes[known].astype(np.int64)
    s = pd.factorize(frame[stratum], sort=True)[0].astype(np.int64)
    answered = frame[observed].to_numpy(dtype=np.bool_)
    durations = frame[duration].to_numpy(dtype=np.float64)
    k, strata = len(levels), int(s.max()) + 1 if len(s) else 0
    shape = (strata, k)
    n = np.bincount(s * k + g, minlength=strata * k).reshape(shape)
    a = np.bincount(s * k + g, weights=answered, minlength=strata * k).reshape(shape)
    rates = tuple(_rate(levels[j], n[:, j], a[:, j]) for j in range(k))
    ref = _reference(levels, n.sum(axis=0), reference, by)
    effects: list[Effect] = []
    if ref is not None and k > 1:
        others = [j for j in range(k) if j != ref]
        differences = risk_differences(n[:, others].T, a[:, others].T, n[:, [ref]].T, a[:, [ref]].T)
        for j, rd in zip(others, differences, strict=True):
            pair = (g == j) | (g == ref)
            test = stratified_logrank(
                durations[pair], answered[pair], (g[pair] == j).astype(np.int64), s[pair], 2
            )
            effects.append(_effect(levels, j, ref, rd, n, test))
    return PersonaEffects(
        grouping=by,
        reference=None if ref is None else levels[ref],
        probes=int(known.sum()),
        unknown=int((~known).sum()),
        levels=rates,
        effects=tuple(effects),
        logrank=stratified_logrank(durations, answered, g, s, k),
    )


def effects_by(
    probes: pd.DataFrame | pa.Table, groupings: Iterable[str], **options: Any
) -> dict[str, PersonaEffects]:
    """persona_effects for each of `groupings` (e.g. persona and each persona attribute)."""
    return {by: persona_effects(probes, by, **options) for by in groupings}


def _columns(probes: pd.DataFrame | pa.Table, names: tuple[str, ...]) -> pd.DataFrame:
    """The columns persona_effects reads, checked: present, and no gaps but in the level."""
    have = list(probes.column_names if isinstance(probes, pa.Table) else probes.columns)
    missing = [name for name in dict.fromkeys(names) if name not in have]
    if missing:
        raise StudyError(
            f"the probes have no column {missing[0]!r} (columns: {', '.join(map(str, have))}); "
            "name a persona attribute the study records"
        )
    wanted = list(dict.fromkeys(names))
    frame = probes.select(wanted).to_pandas() if isinstance(probes, pa.Table) else probes[wanted]
    for name in names[1:]:
        if frame[name].isna().any():
            raise ValueError(f"column {name!r} has missing values; every sent probe has one")
    return frame


def _rate(level: str, n: np.ndarray[Any, Any], a: np.ndarray[Any, Any]) -> LevelRate:
    """One level's response rate from its counts per stratum."""
    probes, answered = int(n.sum()), int(a.sum())
    low, high = wilson(answered, probes)
    return LevelRate(level, probes, answered, int((n > 0).sum()), answered / probes, low, high)


def _reference(
    levels: list[str], sizes: np.ndarray[Any, Any], reference: str | None, by: str
) -> int | None:
    """The reference level's index: `reference`, else the level with the most probes."""
    if reference is None:
        return int(np.argmax(sizes)) if len(levels) else None
    if reference not in levels:
        raise StudyError(
            f"{reference!r} is not a level of {by!r}; use one of {', '.join(levels) or '(none)'}"
        )
    return levels.index(reference)


def _effect(
    levels: list[str],
    j: int,
    ref: int,
    rd: RiskDifference,
    n: np.ndarray[Any, Any],
    test: LogRankTest,
) -> Effect:
    both = (n[:, j] > 0) & (n[:, ref] > 0)
    return Effect(
        level=levels[j],
        reference=levels[ref],
        difference=rd.difference,
        difference_low=rd.low,
        difference_high=rd.high,
        cmh_chi2=rd.chi2,
        cmh_p=rd.p,
        brands=rd.strata,
        probes=int((n[both, j] + n[both, ref]).sum()),
        logrank_chi2=test.chi2,
        logrank_p=test.p,
    )
