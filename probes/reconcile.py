"""Reconciliation: a send whose outcome the runner never learned (a crash, a timeout, a
duplicate-content refusal) is looked up on the platform before anything is sent again, in
the inbox of the account that sent it: found, it is recorded as sent; absent, it is sent
again; unresolvable, it fails (excluded from the analysis, never risked twice)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta

from probes.channels.base import AuthError, Channel, ChannelError, Unresolvable
from probes.health import Health
from study.clock import Clock
from study.errors import StudyError
from study.journal.campaign import Journal
from study.journal.sends import ABSENT, RECONCILED
from study.model import PlannedProbe, ProbeState

# How far the runner's clock may be from a platform's. A duplicate-content refusal after a
# send of unknown outcome means that send was made: it is looked up this far back.
MAX_CLOCK_SKEW = timedelta(days=1)

OnSent = Callable[[PlannedProbe, str, datetime], None]  # (probe, message id, sent at)
# (attempt, probe, detail, retry at, outcome)
Retry = Callable[..., None]


class Reconciler:
    """The runner's look-ups of unknown sends, each with its persona's adapter."""

    def __init__(
        self,
        journal: Journal,
        channels: Mapping[str, Channel],
        health: Health,
        clock: Clock,
        *,
        window: timedelta,
        after_s: float,
        after_real_s: float,
        note: Callable[[str], None],
        on_sent: OnSent,
        retry: Retry,
    ) -> None:
        self.journal, self.channels, self.health, self.clock = journal, channels, health, clock
        self.window = window
        self.after_s, self.after_real_s = after_s, after_real_s
        self.note, self.on_sent, self.retry = note, on_sent, retry
        self.started_real = time.monotonic()
        self.attempt_real: dict[str, float] = {}  # probe -> real time of its last attempt

    def attempted(self, probe_id: str) -> None:
        """A send of the probe starts now (in real time)."""
        self.attempt_real[probe_id] = time.monotonic()

    async def run(self, drive: Collection[str] | None) -> None:
        """Look up every send whose outcome is unknown (of the personas `drive`; None: all)."""
        for probe in self.journal.probes_in(ProbeState.SENDING, channels=drive):
            last = self.journal.last_attempt_at(probe.probe_id)
            first = self.journal.first_attempt_at(probe.probe_id)
            now = self.clock.now()
            if last is not None and (now - last).total_seconds() < self.after_s:
                continue  # give the platform time to show the post, if it was made
            # An attempt of a previous process is as old, in real time, as this process.
            real = self.attempt_real.get(probe.probe_id, self.started_real)
            if time.monotonic() - real < self.after_real_s:
                continue
            margin = timedelta(minutes=5)
            if self.journal.duplicate_after_unknown(probe.probe_id):
                margin = MAX_CLOCK_SKEW  # it is there: look as far back as clocks may differ
            since = (first or probe.scheduled_at) - margin
            channel = self.channels[probe.sender]
            try:
                found = await channel.find_sent(probe, since)
            except Unresolvable as e:
                # Excluded from the analysis: neither unanswered nor risked a second time.
                self.journal.record_failed(None, probe.probe_id, now, str(e))
                self.note(f"{probe.probe_id}: {e}")
                continue
            except AuthError as e:
                raise StudyError(f"{probe.sender}: {e}; check the credentials and run again") from e
            except ChannelError as e:  # Transient, OutcomeUnknown, Unreadable, Rejected
                self.health.unanswered(probe.sender, self.clock.now(), e)
                self.note(f"{probe.probe_id}: lookup failed ({e}); will try again")
                continue
            self.health.reached(probe.sender, self.clock.now())
            if found is not None:
                self.journal.record_sent(None, found, self.window, outcome=RECONCILED)
                self.on_sent(probe, found.message_id, found.sent_at)
                self.note(f"{probe.probe_id}: found on the platform, recorded as sent")
            elif self.journal.refused_as_duplicate(probe.probe_id):
                # Not our own earlier attempt: the text repeats an older post. Final.
                reason = (
                    "the platform refuses this text as a duplicate of an earlier post of the "
                    "probe account; make each account's texts unique (e.g. with {country})"
                )
                self.journal.record_failed(None, probe.probe_id, now, reason)
                self.note(f"{probe.probe_id}: {reason}")
            else:
                self.retry(None, probe, "looked up: not posted", now, outcome=ABSENT)
                self.note(f"{probe.probe_id}: not on the platform; will send again")
