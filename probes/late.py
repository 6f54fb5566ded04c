"""Probes whose slot ended unsent (the runner was stopped, or a platform could not be
reached): caught up to a later occurrence of their slot when the study allows it and one
has room for the brand's account and the persona that sends it (study.catch_up), else
missed."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from probes.confirm.gate import Gate
from study.catch_up import catch_up
from study.journal.campaign import Journal
from study.model import Study
from study.timeutil import iso


def catch_up_or_miss(
    study: Study,
    journal: Journal,
    gate: Gate,
    drive: Collection[str] | None,
    now: datetime,
    note: Callable[[str], None],
) -> None:
    """Catch up, or record as missed, every overdue probe of the personas `drive` (None:
    all); those a person was shown and did not confirm are recorded as missed by the gate."""
    missed = []
    for probe_id in gate.expire(journal.overdue(now, channels=drive), now):
        probe = journal.probe(probe_id)
        moved = None
        if study.catch_up:
            account, sends = journal.account_times(probe), journal.sender_times(probe)
            moved = catch_up(study, probe, now, account, sends)
        if moved is None:
            missed.append(probe_id)
            continue
        journal.record_caught_up(moved, now)
        note(f"caught up {probe_id}: its slot passed unsent; now at {iso(moved.scheduled_at)}")
    if missed:
        journal.record_missed(missed, now)
        for probe_id in missed:
            note(f"missed {probe_id}: its slot ended before it could be sent")
