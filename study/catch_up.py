"""Catch-up: a probe whose slot occurrence passed unsent goes to a later occurrence of its slot.

When the runner was stopped or cut off through a probe's whole slot occurrence, the probe
is not lost: it moves to the next occurrence of the same slot (same local hours, a day of
the slot, in the country's zone) that is still inside the sending period and leaves room
under the account's caps and spacing. Script, slot and round stay as planned, so the
design's fairness rule holds (in each round every brand of a country gets the same script in
the same slot); what changes is the day, and the journal says so (`probes.caught_up_from`, a
`caught_up` event). When a whole country-round was missed, its probes move together: each
looks for the first occurrence after the same moment.

Within the new occurrence the probe keeps its planned time of day when that is free and not
yet past; otherwise it gets a jittered instant drawn, like the plan's, from the study seed
and the probe id. With `separate_windows = true` it keeps the account's windows apart as the
plan does: the first occurrence where it is `window_hours` from the account's other probes,
and only when none has room, the first with `min_spacing_hours`. The persona that sends it
keeps its own `min_spacing_hours` and `max_probes_per_day` from its other sends, as in the
plan. A pure function of its arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from study.assign import Choice
from study.assign import seeded as _rng
from study.model import PlannedProbe, Study
from study.plan import SEND_MARGIN, _draw, _free, _Sender
from study.plan_time import Occurrence, is_inside, occurrence


def catch_up(
    study: Study,
    probe: PlannedProbe,
    now: datetime,
    account: Sequence[datetime],
    sends: Sequence[datetime] = (),
) -> PlannedProbe | None:
    """`probe` moved to the first later occurrence of its slot with room, or None.

    `account` holds the times of the brand account's other probes (planned, or sent: their
    send time); the new time keeps `min_spacing_hours` from each and the per-UTC-day cap.
    `sends` holds those of the other probes of the persona that sends it: the new time keeps
    the persona's own spacing and daily cap from them. The new occurrence starts after the
    probe's passed one, and the new time is not before `now`.
    """
    sender = _sender(study, probe, sends)
    zone = ZoneInfo(study.country(probe.country).timezone)
    slot = study.slot(probe.slot)
    taken = sorted(account)
    earliest = max(now, probe.slot_end_at)
    spacings = [study.min_spacing_hours]
    if study.separate_windows:  # as study.plan: windows apart if any day has room
        spacings.insert(0, max(study.min_spacing_hours, study.window_hours))
    for spacing in spacings:
        day = earliest.astimezone(zone).date()
        while day <= study.end:
            occ = occurrence(day, slot, zone, SEND_MARGIN) if day.weekday() in slot.days else None
            if occ is not None and occ.start_at >= probe.slot_end_at and occ.latest >= earliest:
                at = _pick(study, probe, occ, day, zone, earliest, taken, spacing, sender)
                if at is not None:
                    return replace(
                        probe, scheduled_at=at, slot_start_at=occ.start_at, slot_end_at=occ.end_at
                    )
            day += timedelta(days=1)
    return None


def _pick(
    study: Study,
    probe: PlannedProbe,
    occ: Occurrence,
    day: date,
    zone: ZoneInfo,
    earliest: datetime,
    taken: list[datetime],
    spacing: float,
    sender: _Sender | None,
) -> datetime | None:
    """The planned time of day if it is free, else a seeded draw among the free seconds
    (`spacing` hours from the account's other probes)."""
    slot = study.slot(probe.slot)
    lo = max(0, math.ceil((earliest - occ.start_at).total_seconds()))
    planned = int((probe.scheduled_at - probe.slot_start_at).total_seconds())
    at = occ.start_at + timedelta(seconds=planned)
    free = _free(occ, taken, study, lo, spacing_hours=spacing, sender=sender)
    if any(a <= planned <= b for a, b in free) and is_inside(at, day, slot, zone):
        return at
    rng = _rng(study.seed, "catch-up", probe.probe_id, day.isoformat())
    return _draw(rng, occ, day, slot, zone, taken, study, lo, spacing_hours=spacing, sender=sender)


def _sender(study: Study, probe: PlannedProbe, sends: Sequence[datetime]) -> _Sender | None:
    """The persona that sends `probe`, with its other sends, when it has caps of its own."""
    persona = next((p for p in study.personas if p.name == probe.persona), None)
    if persona is None:
        return None  # a channel's one account: the study's caps are its caps
    return _Sender(persona, Choice(persona.name), sorted(sends))
