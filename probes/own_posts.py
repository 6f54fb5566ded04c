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

from probes.channel import Channel, OutcomeUnknown, Sent, Transient, Unresolvable
from probes.journal import RECONCILED, Journal
from study.journal_schema import LOOK_UP_OWN_POSTS
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
        self.until: datetime | None = None  # probes due by then are looked up
        self.absent: set[str] = set()
        self.retry_at: dict[str, datetime] = {}
        self.done = journal.meta(LOOK_UP_OWN_POSTS) is None

    async def look_up(self, now: datetime) -> tuple[list[tuple[PlannedProbe, Sent]], str]:
        """Look up the due probes not looked up yet; the ones found (now recorded as sent),
        and a note for the progress display ('' when there is nothing to say)."""
        if self.done:
            return [], ""
        if self.until is None:
            self.until = now
        found: list[tuple[PlannedProbe, Sent]] = []
        waiting = 0
        for probe in self._todo():
            if self.retry_at.get(probe.probe_id, now) > now:
                waiting += 1
                continue
            try:
                sent = await self.channels[probe.channel].find_sent(
                    probe, probe.slot_start_at - MARGIN
                )
            except (Transient, OutcomeUnknown) as e:
                retry = now + RETRY
                self.retry_at[probe.probe_id] = retry
                self.journal.postpone(probe.probe_id, retry, f"looking it up first: {e}")
                waiting += 1
                continue
            except Unresolvable as e:
                self.journal.record_failed_open(probe.probe_id, now, str(e))
                continue
            if sent is None:
                self.absent.add(probe.probe_id)
            else:
                attempt = self.journal.begin_attempt(probe.probe_id, now)
                self.journal.record_sent(attempt, sent, self.window, outcome=RECONCILED)
                found.append((probe, sent))
        if not waiting and not self._todo():
            self.journal.drop_meta(LOOK_UP_OWN_POSTS)
            self.done = True
        note = f"found {len(found)} probe(s) already posted: recorded as sent" if found else ""
        return found, note

    def _todo(self) -> list[PlannedProbe]:
        assert self.until is not None
        return [
            p
            for p in self.journal.probes_in(ProbeState.PLANNED, channels=self.drive)
            if p.scheduled_at <= self.until and p.probe_id not in self.absent
        ]
