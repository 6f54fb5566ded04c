"""Catch-up: probes whose slot passed during an outage move to a later occurrence of their
slot, keeping the design (script, slot, round), the caps and the spacing; deterministic."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, reject
from hypothesis import strategies as st

from study.catch_up import catch_up
from study.model import PlannedProbe, Study
from study.personas import Persona
from study.plan import make_plan
from tests.study.test_plan import RANDOM, make_study, plan_or_reject, studies, target


def outage(
    study: Study, plan: list[PlannedProbe], start: datetime, end: datetime
) -> tuple[list[PlannedProbe], list[PlannedProbe], list[PlannedProbe]]:
    """What the runner does when it comes back at `end` after being down from `start`:
    (every probe as it now stands, the probes moved, the probes missed). Probes are taken in
    plan order, each against the account's other probes as they stand."""
    now: dict[str, PlannedProbe] = {p.probe_id: p for p in plan}
    moved, missed = [], []
    passed = [p for p in plan if p.scheduled_at >= start and p.slot_end_at <= end]
    for p in passed:
        others = [
            q.scheduled_at
            for q in now.values()
            if q.probe_id != p.probe_id
            and (q.channel, q.handle.lower()) == (p.channel, p.handle.lower())
            and q.probe_id not in {m.probe_id for m in missed}
        ]
        new = catch_up(study, p, end, others)
        if new is None:
            missed.append(p)
        else:
            now[p.probe_id] = new
            moved.append(new)
    standing = [q for q in now.values() if q not in missed]
    return standing, moved, missed


@st.composite
def outages(draw: st.DrawFn) -> tuple[Study, list[PlannedProbe], datetime, datetime]:
    study = draw(studies())
    plan = plan_or_reject(study)
    if not plan:  # every target without an account
        reject()
    first, last = plan[0].slot_start_at, plan[-1].slot_end_at
    span = int((last - first).total_seconds())
    start = first + timedelta(seconds=draw(st.integers(0, span)))
    end = start + timedelta(hours=draw(st.integers(1, 24 * 6)))
    return study, plan, start, end


@RANDOM
@given(outages())
def test_a_caught_up_probe_is_inside_a_later_occurrence_of_its_slot(
    case: tuple[Study, list[PlannedProbe], datetime, datetime],
) -> None:
    study, plan, start, end = case
    planned = {p.probe_id: p for p in plan}
    _, moved, _ = outage(study, plan, start, end)
    for p in moved:
        was = planned[p.probe_id]
        assert (p.script, p.slot, p.round, p.text) == (was.script, was.slot, was.round, was.text)
        slot = study.slot(p.slot)
        zone = ZoneInfo(study.country(p.country).timezone)
        local = p.scheduled_at.astimezone(zone)
        assert local.weekday() in slot.days and slot.start <= local.time() < slot.end
        assert p.slot_start_at <= p.scheduled_at <= p.slot_end_at - timedelta(minutes=5)
        assert p.slot_start_at.astimezone(zone).date() == local.date()
        assert p.slot_start_at >= was.slot_end_at  # a later occurrence, never the passed one
        assert p.scheduled_at >= end  # not in the past of the runner that came back
        assert local.date() <= study.end  # inside the sending period
        assert p.scheduled_at.microsecond == 0 and p.scheduled_at.tzinfo is UTC


@RANDOM
@given(outages())
def test_caps_and_spacing_hold_after_catch_up(
    case: tuple[Study, list[PlannedProbe], datetime, datetime],
) -> None:
    study, plan, start, end = case
    standing, _, _ = outage(study, plan, start, end)
    by_account: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for p in standing:
        by_account[(p.channel, p.handle.lower())].append(p.scheduled_at)
    for times in by_account.values():
        times.sort()
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert all(g >= timedelta(hours=study.min_spacing_hours) for g in gaps)
        assert max(Counter(t.date() for t in times).values()) <= (
            study.ethics.max_probes_per_account_per_day
        )
        assert len(times) <= study.ethics.max_probes_per_account


@RANDOM
@given(outages())
def test_catch_up_is_a_pure_function_of_its_arguments(
    case: tuple[Study, list[PlannedProbe], datetime, datetime],
) -> None:
    study, plan, start, end = case
    assert outage(study, plan, start, end) == outage(study, list(plan), start, end)


def test_a_missed_country_round_moves_together_to_the_next_slot_day() -> None:
    """Fairness: the brands of a country asked the same script in the same slot, in round 1,
    are all moved to one later occurrence, keeping their planned times of day."""
    brands = [target(f"b{i}", "DE", f"B{i}_DE") for i in range(5)]
    study = make_study(targets=brands, rounds=1, spacing=0, start=date(2026, 3, 2))
    plan = make_plan(study)
    day = plan[0].slot_start_at
    assert len({p.slot_start_at for p in plan}) == 1  # one occurrence for the country
    _, moved, missed = outage(study, plan, day - timedelta(hours=1), day + timedelta(hours=12))
    assert not missed and len(moved) == 5
    assert len({p.slot_start_at for p in moved}) == 1
    by_id = {p.probe_id: p for p in plan}
    for p in moved:
        assert p.scheduled_at - p.slot_start_at == by_id[p.probe_id].scheduled_at - day


def test_no_later_occurrence_in_the_sending_period_means_none() -> None:
    study = make_study(targets=[target("b0", "DE", "B0_DE")], rounds=1, start=date(2026, 3, 2))
    study = replace(study, end=date(2026, 3, 2))  # a single Monday
    [p] = make_plan(study)
    assert catch_up(study, p, p.slot_end_at + timedelta(minutes=1), []) is None


def test_a_runner_back_inside_a_later_occurrence_sends_from_now_on() -> None:
    study = make_study(targets=[target("b0", "DE", "B0_DE")], rounds=1, start=date(2026, 3, 2))
    [p] = make_plan(study)
    zone = ZoneInfo("Europe/Berlin")
    # Back at 16:50 local on the next slot day: the planned time of day has passed.
    day = p.scheduled_at.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    back = datetime.combine(day, time(16, 50), zone).astimezone(UTC)
    moved = catch_up(study, p, back, [])
    assert moved is not None
    assert back <= moved.scheduled_at <= moved.slot_end_at - timedelta(minutes=5)
    assert moved.scheduled_at.astimezone(zone).date() == day


def test_the_next_occurrence_without_room_is_skipped_for_the_one_after() -> None:
    """The account is already asked on the next slot day (spacing 10 h fills the slot)."""
    study = make_study(
        targets=[target("b0", "DE", "B0_DE")], rounds=1, spacing=10, start=date(2026, 3, 2)
    )
    [p] = make_plan(study)
    zone = ZoneInfo("Europe/Berlin")
    next_day = p.scheduled_at.astimezone(zone).date() + timedelta(days=1)
    while next_day.weekday() >= 5:
        next_day += timedelta(days=1)
    busy = datetime.combine(next_day, time(13), zone).astimezone(UTC)
    moved = catch_up(study, p, p.slot_end_at, [busy])
    assert moved is not None
    assert moved.scheduled_at.astimezone(zone).date() > next_day
    assert abs(moved.scheduled_at - busy) >= timedelta(hours=10)


def test_separate_windows_keep_a_caught_up_probe_out_of_the_accounts_other_windows() -> None:
    """As the plan does: `window_hours` from the account's other probes where a later
    occurrence has room, `min_spacing_hours` only where none has."""
    study = make_study(targets=[target("b0", "DE", "B0_DE")], rounds=1, start=date(2026, 3, 2))
    study = replace(study, window_hours=24, separate_windows=True)
    [p] = make_plan(study)
    zone = ZoneInfo("Europe/Berlin")
    next_day = p.scheduled_at.astimezone(zone).date() + timedelta(days=1)
    while next_day.weekday() >= 5:
        next_day += timedelta(days=1)
    busy = datetime.combine(next_day, time(10), zone).astimezone(UTC)
    moved = catch_up(study, p, p.slot_end_at, [busy])
    assert moved is not None and abs(moved.scheduled_at - busy) >= timedelta(hours=24)
    together = catch_up(replace(study, separate_windows=False), p, p.slot_end_at, [busy])
    assert together is not None and together.scheduled_at.astimezone(zone).date() == next_day
    # No later occurrence far enough: as close as min_spacing_hours allows.
    squeezed = catch_up(replace(study, end=next_day), p, p.slot_end_at, [busy])
    assert squeezed is not None and squeezed.scheduled_at.astimezone(zone).date() == next_day
    assert abs(squeezed.scheduled_at - busy) >= timedelta(hours=study.min_spacing_hours)


def test_a_caught_up_probe_keeps_its_personas_spacing_and_daily_cap() -> None:
    """The persona anna sends one probe a day at most, 20 hours apart: her send on the next
    slot day (to another brand) takes that day, so her caught-up probe goes to the one after,
    and 20 hours from her send."""
    study = make_study(targets=[target("b0", "DE", "B0_DE")], rounds=1, start=date(2026, 3, 2))
    anna = Persona("anna", "x", study.channel("x"), max_probes_per_day=1, min_spacing_hours=20)
    study = replace(study, personas=(anna,))
    [p] = make_plan(replace(study, personas=()))
    p = replace(p, persona="anna")
    zone = ZoneInfo("Europe/Berlin")
    next_day = p.scheduled_at.astimezone(zone).date() + timedelta(days=1)
    while next_day.weekday() >= 5:
        next_day += timedelta(days=1)
    hers = datetime.combine(next_day, time(9, 30), zone).astimezone(UTC)
    assert catch_up(study, p, p.slot_end_at, []) is not None  # the brand's account has room
    moved = catch_up(study, p, p.slot_end_at, [], [hers])
    assert moved is not None
    assert moved.scheduled_at.astimezone(zone).date() > next_day
    assert moved.scheduled_at - hers >= timedelta(hours=20)
    assert moved.scheduled_at.date() != hers.date()
    unbound = catch_up(replace(study, personas=()), p, p.slot_end_at, [], [hers])
    assert unbound is not None and unbound.scheduled_at.astimezone(zone).date() == next_day
