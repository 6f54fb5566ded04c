"""The runner's side of a person in the loop (`replybench run --confirm`).

On the channels that need a person, a due probe is not sent but offered to the
`ConfirmationQueue`; it goes out when a person confirms it, within its slot. A probe a person
skips, and one whose slot ends while it waits, is recorded as missed with the reason
`not confirmed`. A probe whose slot passed while the runner was down was never shown to
anyone: it is caught up or missed as in an unattended run. Everything else (the journal,
reconciliation, retries of a confirmed send, inbox reading, windows) is the runner's as
always.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Protocol

from probes.confirm.queue import ConfirmationQueue, Decision, Inquiry
from study.clock import Clock
from study.journal.campaign import Journal
from study.model import PlannedProbe, Study
from study.personas import personas_of

NOT_CONFIRMED = "not confirmed"
SKIPPED = f"{NOT_CONFIRMED}: a person skipped it"
UNCONFIRMED = f"{NOT_CONFIRMED}: its slot ended while it waited for a person"
UPCOMING = 10  # the next inquiries a person sees coming


class Gate(Protocol):
    """What the runner asks before sending and sleeping: `Unattended`, or `ConfirmGate`."""

    note: Callable[[str], None]

    def admit(self, due: list[PlannedProbe], now: datetime) -> list[PlannedProbe]: ...

    def expire(self, overdue: list[str], now: datetime) -> list[str]: ...

    def next_send(self, drive: Collection[str] | None, now: datetime) -> datetime | None: ...

    async def sleep(self, clock: Clock, seconds: float) -> None: ...


class Unattended:
    """No person in the loop: every due probe goes; the runner sleeps on its clock."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.note: Callable[[str], None] = lambda text: None

    def admit(self, due: list[PlannedProbe], now: datetime) -> list[PlannedProbe]:
        return due

    def expire(self, overdue: list[str], now: datetime) -> list[str]:
        return overdue

    def next_send(self, drive: Collection[str] | None, now: datetime) -> datetime | None:
        return self.journal.next_send_at(channels=drive)

    async def sleep(self, clock: Clock, seconds: float) -> None:
        await clock.sleep(seconds)


class ConfirmGate:
    """What the runner asks before sending a probe of `channels` (those needing a person)."""

    def __init__(
        self, study: Study, journal: Journal, queue: ConfirmationQueue, senders: Collection[str]
    ) -> None:
        """`senders`: the probe accounts (personas, or a channel's one account named after
        the channel: study.personas) whose sends a person confirms."""
        self.study = study
        self.journal = journal
        self.queue = queue
        self.channels = frozenset(senders)
        self._accounts = {p.name: p.account for p in personas_of(study)}
        self.note: Callable[[str], None] = lambda text: None  # the runner's event line
        self._confirmed: set[str] = set()  # confirmed by a person: sent, and retried, freely
        self._skipped: set[str] = set()  # skipped by a person: recorded as missed

    def inquiry(self, probe: PlannedProbe) -> Inquiry:
        country = self.study.country(probe.country)
        names = {t.brand: t.brand_name for t in self.study.targets}
        return Inquiry(
            probe_id=probe.probe_id,
            channel=probe.channel,
            account=self._accounts.get(probe.sender, probe.sender),
            brand=probe.brand,
            brand_name=names.get(probe.brand, probe.brand),
            handle=probe.handle,
            country=probe.country,
            country_name=country.name,
            timezone=country.timezone,
            text=probe.text,
            scheduled_at=probe.scheduled_at,
            slot_end_at=probe.slot_end_at,
        )

    def admit(self, due: list[PlannedProbe], now: datetime) -> list[PlannedProbe]:
        """Of the due probes, those that may go now: the other channels' and the confirmed
        ones. The rest wait for a person."""
        self._take(now)
        go = []
        for probe in due:
            if probe.sender not in self.channels or probe.probe_id in self._confirmed:
                go.append(probe)
            elif probe.probe_id not in self._skipped and self.queue.offer(self.inquiry(probe)):
                self.note(f"waiting for a person to confirm {probe.probe_id}")
        upcoming = self.journal.upcoming(now, UPCOMING, channels=self.channels)
        self.queue.set_upcoming([self.inquiry(p) for p in upcoming])
        return go

    def expire(self, overdue: list[str], now: datetime) -> list[str]:
        """Of the probes whose slot ended unsent, record those a person was shown and did
        not confirm as missed; return the rest, which were never shown (the runner was
        down) or confirmed too late to go in their slot: the runner treats them as always,
        and one caught up is shown to a person again."""
        self._take(now)
        unconfirmed = [probe_id for probe_id in overdue if self.queue.withdraw(probe_id)]
        if unconfirmed:
            self.journal.record_missed(unconfirmed, now, reason=UNCONFIRMED)
            for probe_id in unconfirmed:
                self.queue.note(now, f"missed {probe_id}: {UNCONFIRMED}")
                self.note(f"missed {probe_id}: {UNCONFIRMED}")
        self._confirmed.difference_update(overdue)
        gone = self._skipped.union(unconfirmed)
        return [probe_id for probe_id in overdue if probe_id not in gone]

    def _take(self, now: datetime) -> None:
        """The person's decisions: confirmed probes may go; skipped ones are missed."""
        skipped = []
        for probe_id, decision in self.queue.take().items():
            if decision is Decision.CONFIRM:
                self._confirmed.add(probe_id)
                self.queue.note(now, f"sending {probe_id}")
            else:
                skipped.append(probe_id)
        if skipped:
            self.journal.record_missed(skipped, now, reason=SKIPPED)
            self._skipped.update(skipped)
            for probe_id in skipped:
                self.note(f"missed {probe_id}: {SKIPPED}")

    def next_send(self, drive: Collection[str] | None, now: datetime) -> datetime | None:
        """When the runner next has a probe to send or to give up: the next due probe of the
        unattended channels; of the others, the next not yet offered (or a confirmed one's
        retry), and the end of the first slot a person is waiting on."""
        channels = frozenset(self.journal.senders() if drive is None else drive)
        times = []
        if unattended := channels - self.channels:
            times.append(self.journal.next_send_at(channels=unattended))
        if attended := channels & self.channels:
            times.append(self.journal.next_send_at(channels=attended, after=now))
        times.extend(i.slot_end_at for i in self.queue.waiting())
        found = [t for t in times if t is not None]
        return min(found) if found else None

    async def sleep(self, clock: Clock, seconds: float) -> None:
        """Sleep `seconds` of `clock`'s time, or until a person decides."""
        sleeper = asyncio.ensure_future(clock.sleep(seconds))
        decided = asyncio.ensure_future(self.queue.decided())
        try:
            await asyncio.wait({sleeper, decided}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, decided):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
