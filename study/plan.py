"""The plan: which inquiry each target gets, in which round, slot and instant.

The design is a counterbalanced comparison, as in published responsiveness benchmarks
(e.g. the UXalliance social customer service studies): within one country and round every
brand gets the same script in the same slot occurrence, so brands are compared on equal
terms; across rounds and countries scripts and slots rotate, so no brand, country or script
is tied to one time of day. The plan is a pure function of the `Study` and its seed.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from study.assign import Choice, assign, persona_of
from study.assign import seeded as _rng
from study.errors import StudyError, StudyProblems
from study.model import WEEKDAYS, Country, PlannedProbe, Script, Slot, Study, Target
from study.personas import Persona, personas_of
from study.plan_checks import plan_problems
from study.plan_design import (
    account_name,
    countries_in_order,
    design,
    round_spans,
    script_text,
    slot_days,
)
from study.plan_json import plan_json, plan_summary
from study.plan_time import Occurrence, is_inside, occurrence

__all__ = [
    "SEND_MARGIN",
    "design",
    "make_plan",
    "plan_json",
    "plan_problems",
    "plan_summary",
    "round_spans",
]

# A probe is sent at least this long before its slot ends, so a late runner still makes it.
SEND_MARGIN = timedelta(minutes=5)
_DRAWS = 32  # jitter re-draws on one day before scanning it minute by minute


def make_plan(study: Study) -> list[PlannedProbe]:
    """Every probe of the study, sorted by (scheduled_at, probe_id); same Study, same plan.

    Raises `StudyProblems` for what `plan_problems` finds and `StudyError` when an account's
    spacing and caps leave no room for one of its probes.
    """
    problems = plan_problems(study)
    if problems:
        raise StudyProblems(problems)
    by_country: dict[str, list[Target]] = defaultdict(list)
    for t in sorted(study.probed_targets, key=lambda t: (t.country, t.brand, t.channel)):
        by_country[t.country].append(t)
    unknown = sorted(set(by_country) - {c.code for c in study.countries})
    if unknown:
        code = unknown[0]
        raise StudyError(
            f"targets.csv line {by_country[code][0].line}: country '{code}' has no "
            f"[countries.{code}] table in study.toml; add one"
        )
    scripts = sorted(study.scripts, key=lambda s: s.id)
    taken: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    choices = assign(study)
    personas = {p.name: p for p in personas_of(study)}
    sends: dict[str, list[datetime]] = defaultdict(list)  # persona -> its send times
    plan: list[PlannedProbe] = []
    for r, (first, last) in enumerate(round_spans(study)):
        for c, country in enumerate(countries_in_order(study)):
            targets = by_country.get(country.code, [])
            if not targets:
                continue
            s, m = design(r, c, len(scripts), len(study.slots))
            script, slot = scripts[s], study.slots[m]
            days = slot_days(slot, first, last)
            day = _rng(study.seed, "day", str(r + 1), country.code).choice(days)
            # The country's day first; other days only when caps or spacing force it.
            order = [day] + sorted((d for d in days if d != day), key=lambda d: (abs(d - day), d))
            for target in targets:
                choice = persona_of(choices, target, r + 1)
                sender = personas[choice.persona or target.channel]
                probe = _place(
                    study, target, country, script, slot, r + 1, order, taken,
                    _Sender(sender, choice, sends[sender.name]),
                )  # fmt: skip
                bisect.insort(taken[target.account_key], probe.scheduled_at)
                bisect.insort(sends[sender.name], probe.scheduled_at)
                plan.append(probe)
    return sorted(plan, key=lambda p: (p.scheduled_at, p.probe_id))


def _place(
    study: Study,
    target: Target,
    country: Country,
    script: Script,
    slot: Slot,
    round_no: int,
    order: list[date],
    taken: dict[tuple[str, str], list[datetime]],
    sender: _Sender | None = None,
) -> PlannedProbe:
    probe_id = f"{target.brand}-{target.country}-{target.channel}-r{round_no}"
    account = taken[target.account_key]
    if len(account) >= study.ethics.max_probes_per_account:
        raise StudyError(
            f"{account_name(target)} would get more than max_probes_per_account "
            f"({study.ethics.max_probes_per_account}) probes; lower probes_per_target"
        )
    zone = ZoneInfo(country.timezone)
    rng = _rng(study.seed, "time", probe_id)
    spacings = [study.min_spacing_hours]
    if study.separate_windows:  # windows apart if any day has room, else as close as allowed
        spacings.insert(0, max(study.min_spacing_hours, study.window_hours))
    at: datetime | None = None
    occ: Occurrence | None = None
    for spacing, day in ((h, d) for h in spacings for d in order):
        occ = occurrence(day, slot, zone, SEND_MARGIN)
        if occ is None:
            continue
        at = _draw(rng, occ, day, slot, zone, account, study, spacing_hours=spacing, sender=sender)
        if at is not None:
            break
    if at is None or occ is None:
        days = ", ".join(WEEKDAYS[d] for d in sorted(slot.days))
        raise StudyError(
            f"no room for probe {probe_id}: {account_name(target)} has no time left in slot "
            f"'{slot.name}' ({days}) from {min(order)} to {max(order)} (min_spacing_hours "
            f"{study.min_spacing_hours:g}, at most {study.ethics.max_probes_per_account_per_day}"
            f" a UTC day{_sender_caps(sender)}); lower probes_per_target, lengthen the sending "
            "period, or relax min_spacing_hours"
        )
    return PlannedProbe(
        probe_id=probe_id,
        brand=target.brand,
        country=target.country,
        channel=target.channel,
        handle=target.handle,
        scope=target.scope,
        script=script.id,
        slot=slot.name,
        round=round_no,
        text=script_text(script, country, target, sender.choice.variant if sender else 0),
        scheduled_at=at,
        slot_start_at=occ.start_at,
        slot_end_at=occ.end_at,
        persona=sender.choice.persona if sender else "",
    )


@dataclass(frozen=True)
class _Sender:
    """The persona that sends a probe, its choice of wording, and its sends so far (sorted):
    its own spacing and daily cap hold beside the brand account's."""

    persona: Persona
    choice: Choice
    times: list[datetime]


def _sender_caps(sender: _Sender | None) -> str:
    if sender is None or not sender.persona.declared:
        return ""
    p = sender.persona
    per_day = "" if p.max_probes_per_day is None else f", at most {p.max_probes_per_day} a day"
    return f"; {p.describe()}: min_spacing_hours {p.min_spacing_hours:g}{per_day}"


def _draw(
    rng: random.Random,
    occ: Occurrence,
    day: date,
    slot: Slot,
    zone: ZoneInfo,
    account: list[datetime],
    study: Study,
    not_before: int = 0,
    *,
    spacing_hours: float | None = None,
    sender: _Sender | None = None,
) -> datetime | None:
    """A uniformly jittered instant on this slot occurrence that keeps the account's caps,
    and the sending persona's (and is at least `not_before` seconds after the slot start)."""
    free = _free(occ, account, study, not_before, spacing_hours=spacing_hours, sender=sender)
    total = sum(b - a + 1 for a, b in free)
    if total == 0:
        return None
    for _ in range(_DRAWS):
        at = occ.start_at + timedelta(seconds=_nth(free, rng.randrange(total)))
        if is_inside(at, day, slot, zone):
            return at
    # Only a DST change inside the slot gets here: keep the minutes that exist locally.
    minutes = [
        occ.start_at + timedelta(seconds=k)
        for a, b in free
        for k in range(a, b + 1, 60)
        if is_inside(occ.start_at + timedelta(seconds=k), day, slot, zone)
    ]
    return rng.choice(minutes) if minutes else None


def _free(
    occ: Occurrence,
    account: list[datetime],
    study: Study,
    not_before: int = 0,
    *,
    spacing_hours: float | None = None,
    sender: _Sender | None = None,
) -> list[tuple[int, int]]:
    """Second offsets from the slot start (inclusive ranges) that break no spacing or cap,
    from `not_before` on; spacing `spacing_hours`, by default the study's
    min_spacing_hours; with `sender`, its persona's spacing and daily cap too."""
    spacing = (study.min_spacing_hours if spacing_hours is None else spacing_hours) * 3600
    blocked = _blocked(occ, account, spacing, study.ethics.max_probes_per_account_per_day)
    if sender is not None and sender.persona.declared:
        p = sender.persona
        blocked += _blocked(occ, sender.times, p.min_spacing_hours * 3600, p.max_probes_per_day)
    free = [(not_before, occ.seconds)] if not_before <= occ.seconds else []
    for a, b in sorted(blocked):
        free = [piece for f in free for piece in _minus(f, a, b)]
    return free


def _blocked(
    occ: Occurrence, account: list[datetime], spacing: float, per_day_cap: int | None
) -> list[tuple[int, int]]:
    """Second offsets from the slot start (inclusive ranges) that the sends in `account`
    block: within `spacing` seconds of one, or on a UTC day that has `per_day_cap`."""
    blocked: list[tuple[int, int]] = []
    reach = timedelta(seconds=spacing) + (occ.latest - occ.start_at)
    lo = bisect.bisect_left(account, occ.start_at - timedelta(seconds=spacing) - timedelta(1))
    hi = bisect.bisect_right(account, occ.start_at + reach + timedelta(1))
    near = account[lo:hi]
    if spacing > 0:
        for u in near:
            d = (u - occ.start_at).total_seconds()
            blocked.append((math.floor(d - spacing) + 1, math.ceil(d + spacing) - 1))
    per_day = Counter(u.date() for u in near)
    for utc_day, n in per_day.items():
        if per_day_cap is not None and n >= per_day_cap:
            midnight = datetime(utc_day.year, utc_day.month, utc_day.day, tzinfo=UTC)
            a = int((midnight - occ.start_at).total_seconds())
            blocked.append((a, a + 86399))
    return blocked


def _minus(f: tuple[int, int], a: int, b: int) -> list[tuple[int, int]]:
    lo, hi = f
    if b < lo or a > hi:
        return [f]
    return [p for p in ((lo, a - 1), (b + 1, hi)) if p[0] <= p[1]]


def _nth(free: list[tuple[int, int]], i: int) -> int:
    for a, b in free:
        if i <= b - a:
            return a + i
        i -= b - a + 1
    raise IndexError(i)
