"""Each company's strengths and weaknesses, written from its published numbers.

Every sentence carries the numbers it rests on. Comparisons with the field (all brands
together) claim a difference only when the brand's 95% interval lies wholly on one side of
the field's estimate; the thresholds below say when a share is worth mentioning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reports.fmt import count, hours, hours_range, listing, pct, pct_range

FAST_MARGIN = 0.15  # answered within 1 hour: this much above or below the field
SLOT_GAP = 0.25  # response rates of two slots this far apart
ALL_SLOTS_GOOD = 0.8  # every slot (or channel) answered at least this often
RARELY = 0.25  # a channel answered less often than this is "rarely" answered
REDIRECT_SHARE = 0.3  # this share of responses or more were "please DM us"
GOOD_SATISFACTION = 4.0
POOR_SATISFACTION = 2.5


@dataclass(frozen=True)
class Facts:
    """What the findings of one brand are written from."""

    brands: int  # brands in the study
    rank: dict[str, Any] | None  # {"rank", "rank_low", "rank_high"}
    tier: int | None
    tiers: int  # tiers in the study
    tier_size: int  # brands in the brand's tier
    brand: dict[str, Any] | None  # the brand's metrics row (None: nothing sent)
    field: dict[str, Any] | None  # the overall metrics row
    countries: int  # countries in the study
    probed: tuple[str, ...]  # countries where the brand was probed (names)
    fastest_in: tuple[str, ...]  # countries where its median time was the fastest
    all_answered_in: tuple[str, ...]
    none_answered_in: tuple[str, ...]
    global_in: tuple[str, ...]  # countries asked through its global account
    global_answered_in: tuple[str, ...]  # of those, where that account answered
    no_account_in: tuple[str, ...]
    slots: tuple[tuple[str, dict[str, Any]], ...]  # (slot as an adjective, its metrics row)
    kinds: dict[str, Any] | None
    quality: dict[str, Any] | None
    channels: tuple[tuple[str, dict[str, Any]], ...] = ()  # (channel's name, metrics row)


def findings(f: Facts) -> tuple[list[str], list[str]]:
    """The brand's strengths and weaknesses, most telling first."""
    good: list[str] = []
    bad: list[str] = []
    _standing(f, good, bad)
    if f.brand is not None and f.field is not None:
        _rate(f.brand, f.field, good, bad)
        _speed(f.brand, f.field, good, bad)
    _countries(f, good, bad)
    _accounts(f, good, bad)
    _slots(f, good, bad)
    _channels(f, good, bad)
    _kinds(f, bad)
    _quality(f, good, bad)
    return good, bad


def _standing(f: Facts, good: list[str], bad: list[str]) -> None:
    if f.rank is None or f.tier is None or f.brands < 2:
        return
    where = (
        f"rank {f.rank['rank']} of {f.brands} "
        f"(95% interval {f.rank['rank_low']}\u2013{f.rank['rank_high']})"
    )
    if f.tier == 1:
        others = f.tier_size - 1
        if others:
            peers = f"with {count(others, 'other brand')} that cannot be told apart from it"
            good.append(f"In the top tier, {peers}; {where}.")
        else:
            good.append(f"Alone in the top tier; {where}.")
    elif f.tier == f.tiers:
        bad.append(f"In the bottom tier (tier {f.tier} of {f.tiers}); {where}.")


def _rate(m: dict[str, Any], field: dict[str, Any], good: list[str], bad: list[str]) -> None:
    rate, low, high = m["response_rate"], m["response_rate_low"], m["response_rate_high"]
    if rate is None or field["response_rate"] is None:
        return
    said = (
        f"answered {m['answered']} of {m['probes']} probes ({pct(rate)}, 95% interval "
        f"{pct_range(low, high)}) against the field's {pct(field['response_rate'])}"
    )
    if low is not None and low > field["response_rate"]:
        good.append(f"Responsive: {said}.")
    elif high is not None and high < field["response_rate"]:
        bad.append(f"Often silent: {said}.")


def _speed(m: dict[str, Any], field: dict[str, Any], good: list[str], bad: list[str]) -> None:
    mine, theirs = m["answered_within_1h"], field["answered_within_1h"]
    if mine is not None and theirs is not None:
        said = f"{pct(mine)} of probes answered within an hour (field: {pct(theirs)})"
        if mine >= theirs + FAST_MARGIN:
            good.append(f"Fast: {said}.")
        elif mine <= theirs - FAST_MARGIN:
            bad.append(f"Slow to start: {said}.")
    median, fmed = m["median_hours"], field["median_hours"]
    if fmed is None:
        return
    ci = hours_range(m["median_hours_low"], m["median_hours_high"])
    ci = f"95% interval {ci}; " if ci else ""
    said = f"median time to response {hours(median)} ({ci}field: {hours(fmed)})"
    if m["median_hours_high"] is not None and m["median_hours_high"] < fmed:
        good.append(f"Quick: {said}.")
    elif median is None or (m["median_hours_low"] is not None and m["median_hours_low"] > fmed):
        bad.append(f"Slow: {said}.")


def _countries(f: Facts, good: list[str], bad: list[str]) -> None:
    k = len(f.probed)
    if not k:
        return
    if f.fastest_in:
        good.append(
            f"Fastest median time in {len(f.fastest_in)} of {count(k, 'country', 'countries')}"
            f" ({listing(list(f.fastest_in))})."
        )
    if f.all_answered_in:
        good.append(
            f"Answered every probe in {len(f.all_answered_in)} of "
            f"{count(k, 'country', 'countries')} ({listing(list(f.all_answered_in))})."
        )
    if f.none_answered_in:
        bad.append(
            f"No answer at all in {len(f.none_answered_in)} of "
            f"{count(k, 'country', 'countries')} ({listing(list(f.none_answered_in))})."
        )


def _accounts(f: Facts, good: list[str], bad: list[str]) -> None:
    n_global, n_none = len(f.global_in), len(f.no_account_in)
    if f.countries > 1 and not n_global and not n_none and len(f.probed) == f.countries:
        good.append(f"A local account in all {f.countries} countries.")
    if n_global:
        answered = len(f.global_answered_in)
        bad.append(
            f"No local account in {count(n_global, 'country', 'countries')}; the global "
            f"account answered {answered} of them"
            + (f" ({listing(list(f.global_answered_in))})." if answered else ".")
        )
    if n_none:
        bad.append(
            f"No account found in {count(n_none, 'country', 'countries')} "
            f"({listing(list(f.no_account_in))}): nothing could be asked there."
        )


def _slots(f: Facts, good: list[str], bad: list[str]) -> None:
    rated = [(name, row) for name, row in f.slots if row["response_rate"] is not None]
    if len(rated) < 2:
        return
    best = max(rated, key=lambda s: s[1]["response_rate"])
    worst = min(rated, key=lambda s: s[1]["response_rate"])
    lo, hi = worst[1]["response_rate"], best[1]["response_rate"]
    if hi - lo >= SLOT_GAP:
        bad.append(
            f"Uneven across the week: answered {pct(lo)} of {worst[0]} probes "
            f"({worst[1]['answered']} of {worst[1]['probes']}) against {pct(hi)} of "
            f"{best[0]} probes."
        )
    elif lo >= ALL_SLOTS_GOOD:
        names = listing([name for name, _ in rated])
        good.append(f"Steady across the week: at least {pct(lo)} of {names} probes answered.")


def _channels(f: Facts, good: list[str], bad: list[str]) -> None:
    """Uneven only when the best channel's 95% interval lies wholly above the worst's
    (Eptica's multichannel studies: few brands answer alike on every channel)."""
    rated = [(name, row) for name, row in f.channels if row["response_rate"] is not None]
    if len(rated) < 2:
        return
    best = max(rated, key=lambda s: s[1]["response_rate"])
    worst = min(rated, key=lambda s: s[1]["response_rate"])
    low, high = best[1]["response_rate_low"], worst[1]["response_rate_high"]
    if low is not None and high is not None and low > high:
        lo = worst[1]["response_rate"]
        how = "never" if lo == 0 else "rarely" if lo < RARELY else "less often"
        bad.append(
            f"Uneven across channels: answers on {best[0]} ({_said(best[1])}) but {how} on "
            f"{worst[0]} ({_said(worst[1])})."
        )
    elif min(row["response_rate"] for _, row in rated) >= ALL_SLOTS_GOOD:
        names = listing([name for name, _ in rated])
        lowest = pct(min(row["response_rate"] for _, row in rated))
        good.append(f"Consistent across channels: at least {lowest} answered on {names}.")


def _said(m: dict[str, Any]) -> str:
    ci = pct_range(m["response_rate_low"], m["response_rate_high"])
    return f"{pct(m['response_rate'])}, {m['answered']} of {m['probes']}; 95% interval {ci}"


def _kinds(f: Facts, bad: list[str]) -> None:
    k = f.kinds
    if not k:
        return
    if k["responses"] and k["redirect"] / k["responses"] >= REDIRECT_SHARE:
        bad.append(
            f"{k['redirect']} of {count(k['responses'], 'response')} only asked to move to "
            'private messages ("please DM us").'
        )
    if k["auto_ack_only"]:
        bad.append(
            f"{count(k['auto_ack_only'], 'probe')} got an automatic acknowledgement and no answer."
        )


def _quality(f: Facts, good: list[str], bad: list[str]) -> None:
    q = f.quality
    if not q or q["satisfaction_mean"] is None:
        return
    ci = ""
    if q["satisfaction_low"] is not None and q["satisfaction_high"] is not None:
        ci = f", 95% interval {q['satisfaction_low']:.1f}\u2013{q['satisfaction_high']:.1f}"
    said = (
        f"mean satisfaction {q['satisfaction_mean']:.1f} of 5 over "
        f"{count(q['probes'], 'rated response')}{ci}; {pct(q['answered_yes'])} fully answered "
        "the question"
    )
    if q["satisfaction_mean"] >= GOOD_SATISFACTION:
        good.append(f"Helpful answers: {said}.")
    elif q["satisfaction_mean"] <= POOR_SATISFACTION:
        bad.append(f"Unhelpful answers: {said}.")
