"""Slot occurrences: a local-time slot on one local date, as UTC instants.

Local wall-clock times are resolved in the country's IANA zone with a round trip through
UTC (PEP 495), so a time skipped by a DST change is never produced and a repeated hour is
read as the slot's first (start) or last (end) pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from study.model import Slot, Study


@dataclass(frozen=True)
class Occurrence:
    """One slot on one local date: its UTC bounds and the last instant a probe may use."""

    start_at: datetime  # UTC, the first instant whose local time is the slot start
    end_at: datetime  # UTC, exclusive: the slot end (its later pass if the hour repeats)
    latest: datetime  # end_at minus the send margin: the last instant to schedule at

    @property
    def seconds(self) -> int:
        """Whole seconds from start_at to latest (probes are scheduled on whole seconds)."""
        return int((self.latest - self.start_at).total_seconds())


def occurrence(day: date, slot: Slot, zone: ZoneInfo, margin: timedelta) -> Occurrence | None:
    """The slot on `day` in `zone`, or None when too little of it exists to send in."""
    start_at = local_instant(day, slot.start, zone, last=False)
    end_at = local_instant(day, slot.end, zone, last=True)
    latest = end_at - margin
    if latest < start_at:
        return None
    return Occurrence(start_at, end_at, latest)


def is_inside(at: datetime, day: date, slot: Slot, zone: ZoneInfo) -> bool:
    """Whether the UTC instant `at` is on local `day`, a slot day, inside [start, end)."""
    local = at.astimezone(zone)
    return (
        local.date() == day
        and local.weekday() in slot.days
        and slot.start <= local.time() < slot.end
    )


def local_instant(day: date, clock: time, zone: ZoneInfo, *, last: bool) -> datetime:
    """The UTC instant of a local wall-clock time.

    A repeated time (DST fold) gives its first pass, or its last with `last=True`; a skipped
    time (DST gap) gives the instant the clocks jump, the first instant after it locally.
    """
    naive = datetime.combine(day, clock)
    passes = sorted(naive.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))
    real = [u for u in passes if u.astimezone(zone).replace(tzinfo=None) == naive]
    if real:
        return real[-1] if last else real[0]
    # In a gap the two readings straddle the jump: find it to the second.
    lo, hi = passes
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid.astimezone(zone).replace(tzinfo=None) < naive:
            lo = mid
        else:
            hi = mid
    return hi


def period_end(study: Study) -> datetime:
    """The end of the sending period, UTC: midnight after its last day in the study's country
    whose day ends last."""
    day = study.end + timedelta(days=1)
    ends = [local_instant(day, time(0), ZoneInfo(c.timezone), last=False) for c in study.countries]
    return max(ends, default=datetime.combine(day, time(0), UTC))


def past_period_warning(study: Study, now: datetime) -> str | None:
    """A warning when the whole sending period ended before `now`, else None."""
    ends = period_end(study)
    if ends > now:
        return None
    return (
        f"warning: the sending period ({study.start} to {study.end}) ended at "
        f"{ends:%Y-%m-%d %H:%M} UTC, before now ({now.astimezone(UTC):%Y-%m-%d %H:%M} UTC): "
        "`replybench run` would find every slot past and send nothing; move start and end in "
        "study.toml to future dates (`replybench sim` starts at the first slot, so the "
        "simulator still runs it)"
    )
