"""Before the first send of a new (or restored) journal: look the due probes up among the probe
account's own posts.

A journal created afresh while the study had run before (the old one lost, or moved away) or
restored from a backup (behind the platform) does not know what was posted already. Sending
from it would post a second time every probe whose slot is still open. So while the journal's
meta holds `look_up_own_posts`, every planned probe that was due when the runner started is
looked up with the adapter's `find_sent` (the look-up that reconciles unknown sends) before
anything is sent: one found is recorded as sent (attempt outcome `reconciled`), one absent may
be sent, one whose look-up fails waits for another try. Probes scheduled after that moment
cannot have been sent by an earlier runner. When every one is looked up, the key is removed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from probes.channels.base import (
    Channel,
    OutcomeUnknown,
    Rejected,
    Sent,
    Transient,
    Unreadable,
    Unresolvable,
)
from study.journal.campaign import Journal
from study.journal.schema import LOOK_UP_OWN_POSTS
from study.journal.sends import RECONCILED
from study.model import PlannedProbe, ProbeState

RETRY = timedelta(minutes=2)  # after a failed look-up (the platform's clock)
MARGIN = timedelta(minutes=5)  # a post made a little before its slot still counts


class OwnPosts:
    """The look-up of a runner's due probes among the account's posts, once per journal."""

    def __init__(
        self,
        journal: Journal,
        channels: Mapping[str, Channel],
        drive: Collection[str] | None,
        window: timedelta,
    ) -> None:
        self.journal = journal
        self.channels = channels
        self.drive = drive
        self.window = window
        # The probes to look up (fixed at the first look-up: catch-up may move one later
        # before it is looked up), each with the time to look from.
        self.todo: dict[str, datetime] | None = None
        self.done = journal.meta(LOOK_UP_OWN_POSTS) is None

    async def look_up(self, now: datetime) -> tuple[list[tuple[PlannedProbe, Sent]], str]:
        """Look up the due probes not looked up yet; the ones found (now recorded as sent),
        and a note for the progress display ('' when there is nothing to say). One whose
        look-up fails is postponed (`retry_at`), so it is not due, and tried again later."""
        if self.done:
            return [], ""
        if self.todo is None:
            self.todo = {
                p.probe_id: p.slot_start_at - MARGIN
                for p in self.journal.probes_in(ProbeState.PLANNED, channels=self.drive)
                if p.scheduled_at <= now
            }
        found: list[tuple[PlannedProbe, Sent]] = []
        for probe, retry_at in self._planned():
            if retry_at is not None and retry_at > now:
                continue  # postponed: not due either
            since = self.todo[probe.probe_id]
            try:
                sent = await self.channels[probe.sender].find_sent(probe, since)
            except (Transient, OutcomeUnknown, Unreadable, Rejected) as e:  # a failed read
                self.journal.postpone(probe.probe_id, now + RETRY, f"looking it up first: {e}")
                continue
            except Unresolvable as e:
                self.journal.record_failed(None, probe.probe_id, now, str(e))
            else:
                if sent is not None:
                    attempt = self.journal.begin_attempt(probe.probe_id, now)
                    self.journal.record_sent(attempt, sent, self.window, outcome=RECONCILED)
                    found.append((probe, sent))
            del self.todo[probe.probe_id]
        if not self._planned():
            self.journal.drop_meta(LOOK_UP_OWN_POSTS)
            self.done = True
        note = f"found {len(found)} probe(s) already posted: recorded as sent" if found else ""
        return found, note

    def _planned(self) -> list[tuple[PlannedProbe, datetime | None]]:
        """The probes still to look up that are still planned, with their retry time."""
        assert self.todo is not None
        out = []
        for probe in self.journal.probes_in(ProbeState.PLANNED, channels=self.drive):
            if probe.probe_id in self.todo:
                out.append((probe, self.journal.retry_at(probe.probe_id)))
        return out
