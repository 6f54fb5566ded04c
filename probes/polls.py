"""The runner's inbox reads: when each channel's inbox is read next, and what a read does.

The interval adapts: soon while replies arrive, backing off while the inbox is quiet, and
always right after the next window closes, so a window is closed only by a read that saw past
its end. A failed read keeps the channel's probes censored at its last good read and is
tried again later, backing off.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta

from probes.channels.base import AuthError, Channel, ChannelError
from probes.health import Health
from probes.matching import Matcher
from probes.pacing import Pacer
from study.clock import Clock
from study.errors import StudyError
from study.journal.campaign import Journal
from study.model import ProbeState


class Polls:
    """The inbox reads of the channels a runner drives (all when `drive` is None)."""

    def __init__(
        self,
        journal: Journal,
        channels: Mapping[str, Channel],
        matcher: Callable[[str], Matcher],
        health: Health,
        clock: Clock,
        *,
        drive: Collection[str] | None,
        poll_min_s: float,
        poll_max_s: float,
        note: Callable[[str], None],
        pacer: Pacer | None = None,
    ) -> None:
        self.journal = journal
        self.channels = channels
        self.matcher = matcher
        self.health = health
        self.clock = clock
        self.drive = drive
        self.poll_min_s = poll_min_s
        self.poll_max_s = poll_max_s
        self.note = note
        self.pacer = pacer or Pacer()  # the platforms' read limits (probes.pacing)
        self.replies_seen = 0  # new replies stored by this run
        self._interval: dict[str, float] = {}
        self._next: dict[str, datetime] = {}

    def open_channels(self) -> list[str]:
        """The driven channels with a probe whose window is open."""
        return [
            c
            for c in self.journal.senders(state=ProbeState.SENT)
            if self.drive is None or c in self.drive
        ]

    def next_reads(self) -> list[datetime]:
        """When each channel with an open window is to be read next (now: not read yet)."""
        now = self.clock.now()
        return [self._next.get(c, now) for c in self.open_channels()]

    def sent(self, channel: str, sent_at: datetime) -> None:
        """A new open probe on `channel`: look at its inbox soon."""
        self._interval[channel] = self.poll_min_s
        soon = sent_at + timedelta(seconds=self.poll_min_s)
        self._next[channel] = min(self._next.get(channel, soon), soon)

    async def read_due(self) -> None:
        now = self.clock.now()
        for name in self.open_channels():
            if self._next.get(name, now) <= now:
                if (later := self.pacer.poll(name, now)) is not None:
                    self._next[name] = later
                    continue
                await self.read(name)

    async def read(self, name: str) -> None:
        channel = self.channels[name]
        started = self.clock.now()
        try:
            replies, cursor = await channel.inbox(self.journal.cursor(name))
        except AuthError as e:
            raise StudyError(f"{name}: {e}; check the credentials and run again") from e
        except ChannelError as e:  # Transient, OutcomeUnknown, Unreadable, Rejected
            self.health.unanswered(name, self.clock.now(), e)
            self._failed(name, started, e)
            return
        self.health.reached(name, self.clock.now())
        # Seen when the read returned, not when it began: at a simulator's speed, replies
        # are written during the read, after `started` (which stays the safe bound of what
        # the read covered, for closing windows).
        seen = self.clock.now()
        matcher = self.matcher(name)
        matches = [(r, matcher.match(r)) for r in replies]
        matched = [(r, m.probe_id) for r, m in matches]
        ambiguous = {r.reply_id: m.ambiguous for r, m in matches if m.ambiguous}
        new = self.journal.record_inbox(
            name, matched, cursor, started, seen_at=seen, ambiguous=ambiguous
        )
        self.replies_seen += new
        closed = self.journal.close_windows(name, started)
        if new:
            self.note(f"{name}: {new} new repl{'y' if new == 1 else 'ies'}")
        if closed:
            self.note(f"{name}: closed {closed} window(s)")
        self._schedule(name, started, quiet=new == 0)

    def _failed(self, name: str, at: datetime, error: ChannelError) -> None:
        """Every failed inbox read comes here: recorded for `status` and alerts (the
        channel's probes stay censored at its last good read), and tried again later."""
        self.journal.record_inbox_failure(name, at, str(error))
        self.note(f"{name}: inbox read failed ({error}); will try again")
        # Backing off, not pulled in by a window's end: that would read every second.
        interval = min(self._interval.get(name, self.poll_min_s) * 2, self.poll_max_s)
        self._interval[name] = interval
        self._next[name] = at + timedelta(seconds=interval)

    def _schedule(self, name: str, now: datetime, *, quiet: bool) -> None:
        """Soon while replies arrive, backing off while quiet, and always right after the
        next window closes, so closure waits for a read that saw past it."""
        interval = self._interval.get(name, self.poll_min_s)
        interval = min(interval * 2, self.poll_max_s) if quiet else self.poll_min_s
        self._interval[name] = interval
        nxt = now + timedelta(seconds=interval)
        closes = self.journal.next_close(name)
        if closes is not None:
            nxt = min(nxt, max(closes + timedelta(seconds=1), now + timedelta(seconds=1)))
        self._next[name] = nxt
