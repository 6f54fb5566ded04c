"""The campaign runner: sends due probes, polls inboxes, records replies, closes windows.

One process, asyncio. Every decision is read back from the journal, so the runner can be
killed at any moment (`kill -9` included) and started again: it first reconciles sends whose
outcome it never learned, then carries on. It exits when every probe of the channels it
drives is closed, missed or failed, or when asked to stop (Ctrl-C: the current step
finishes, the journal stays whole). Probes of other channels (`manual`: people send them)
stay as they are: never due, overdue or missing an adapter.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from probes.alerts import Alerter
from probes.channels.base import (
    AuthError,
    Channel,
    ChannelError,
    DuplicateContent,
    OutcomeUnknown,
    RateLimit,
    Rejected,
    Transient,
    Unreadable,
    Unresolvable,
)
from probes.health import Health
from probes.journal import ABSENT, RECONCILED, Journal
from probes.matching import Matcher
from probes.own_posts import OwnPosts
from study.catch_up import catch_up
from study.clock import Clock
from study.errors import StudyError
from study.model import PlannedProbe, ProbeState, Study
from study.timeutil import iso, parse_iso

DUPLICATE = "duplicate"  # attempt detail prefix: refused as duplicate content
INBOX_FAILED = "inbox_failed"  # event kind: an inbox read failed; detail "channel: why"
# How far the runner's clock may be from a platform's. A duplicate-content refusal after a
# send of unknown outcome means that send was made: it is looked up this far back.
MAX_CLOCK_SKEW = timedelta(days=1)


@dataclass(frozen=True)
class RunnerConfig:
    poll_min_s: float = 60.0  # poll this often while replies are arriving
    poll_max_s: float = 900.0  # back off to this when the inbox is quiet
    send_concurrency: int = 4
    retry_base_s: float = 60.0  # first retry of a failed send; doubles per failure
    # An unknown send is looked up only after this long on the platform's clock AND this long
    # in real time: a server may apply a request it queued after its client died, and at a
    # simulator's speed of thousands 30 platform seconds are milliseconds of real time.
    reconcile_after_s: float = 30.0
    reconcile_after_real_s: float = 5.0
    idle_step_s: float = 3600.0  # longest sleep when nothing is scheduled
    # The crash drill's injection point: die (as kill -9 would) with this probability right
    # after the platform acknowledged a post and before the journal records it, the worst
    # moment for a crash. 0 except in the drill (REPLYBENCH_DRILL_CRASH_AFTER_SEND).
    crash_after_send: float = 0.0


@dataclass
class Snapshot:
    """What the progress display shows."""

    now: datetime
    counts: dict[str, int]
    answered: int
    next_send: datetime | None
    rate_limits: list[RateLimit] = field(default_factory=list)
    last_event: str = ""

    @property
    def open(self) -> int:
        return self.counts.get(ProbeState.SENT.value, 0) + self.counts.get("sending", 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return sum(
            self.counts.get(s.value, 0)
            for s in (ProbeState.CLOSED, ProbeState.MISSED, ProbeState.FAILED)
        )


@dataclass(frozen=True)
class RunSummary:
    counts: dict[str, int]
    answered: int
    replies: int
    interrupted: bool


class Runner:
    def __init__(
        self,
        study: Study,
        journal: Journal,
        channels: Mapping[str, Channel],
        clock: Clock,
        *,
        config: RunnerConfig | None = None,
        on_progress: Callable[[Snapshot], None] | None = None,
        seed: int = 0,
        drive: Collection[str] | None = None,
        alerter: Alerter | None = None,
        on_event: Callable[[datetime, str], None] | None = None,
    ) -> None:
        """`drive` names the channels whose probes this runner handles (each needs an adapter
        in `channels`); None means every channel in the journal. `on_event` hears each event
        (sent, replies, closed, missed, caught up, retried, ...) as a line of text."""
        self.study = study
        self.journal = journal
        self.channels = channels
        self.drive = None if drive is None else frozenset(drive)
        self.clock = clock
        self.config = config or RunnerConfig()
        self.on_progress = on_progress
        self.on_event = on_event
        alert_after = None if study.alerts is None else study.alerts.unreachable_minutes
        self.health = Health(
            journal,
            max_outage=timedelta(minutes=study.max_outage_minutes),
            alerter=alerter,
            alert_after=None if alert_after is None else timedelta(minutes=alert_after),
        )
        self.window = timedelta(hours=study.window_hours)
        self.matcher = Matcher(study)
        self.rng = random.Random(seed)
        self.stop_requested = False
        self._interval: dict[str, float] = {}
        self._next_poll: dict[str, datetime] = {}
        self._failures: dict[str, int] = {}
        self._last_event = ""
        self._replies_seen = 0
        self._noted = 0.0
        self._started_real = time.monotonic()
        self._attempt_real: dict[str, float] = {}  # probe -> real time of its last attempt
        self.own_posts = OwnPosts(journal, channels, self.drive, self.window)
        self._load_matcher()

    def _load_matcher(self) -> None:
        rows = self.journal.con.execute(
            "SELECT probe_id, brand, country, channel, handle, message_id, sent_at, closes_at "
            "FROM probes WHERE message_id IS NOT NULL"
        )
        for r in rows:
            if not self._drives(r["channel"]):
                continue
            self.matcher.add(
                probe_id=r["probe_id"],
                brand=r["brand"],
                channel=r["channel"],
                handle=r["handle"],
                message_id=r["message_id"],
                sent_at=parse_iso(r["sent_at"]),
                closes_at=parse_iso(r["closes_at"]),
                country=r["country"],
            )
        for reply, probe_id in self.journal.replies():
            if self._drives(reply.channel):
                self.matcher.remember(reply, probe_id)

    def request_stop(self) -> None:
        self.stop_requested = True

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> RunSummary:
        for name in sorted(self._channels_used() if self.drive is None else self.drive):
            if name not in self.channels:
                raise StudyError(f"no adapter for channel {name!r} in this runner")
        self.health.start(self.clock.now())
        await self._reconcile()
        while not self.stop_requested:
            now = self.clock.now()
            await self._look_up_own_posts(now)  # a new or restored journal: before sending
            self._catch_up_or_miss(now)
            await self._send_due(now)
            await self._reconcile()
            await self._poll_due()
            self._report()
            self.health.check(self.clock.now())
            wake = self._next_wake()
            if wake is None:
                break
            delay = (wake - self.clock.now()).total_seconds()
            if delay > 0:
                await self.clock.sleep(min(delay, self.config.idle_step_s))
        self._report(force=True)
        counts = self.journal.counts()
        return RunSummary(
            counts=counts,
            answered=self.journal.answered_count(),
            replies=self._replies_seen,
            interrupted=self.stop_requested,
        )

    def _catch_up_or_miss(self, now: datetime) -> None:
        """Probes whose slot ended unsent: on to a later occurrence of their slot when the
        study allows it and one has room (study.catch_up), else missed."""
        missed = []
        for probe_id in self.journal.overdue(now, channels=self.drive):
            probe = self.journal.probe(probe_id)
            moved = None
            if self.study.catch_up:
                moved = catch_up(self.study, probe, now, self.journal.account_times(probe))
            if moved is None:
                missed.append(probe_id)
                continue
            self.journal.record_caught_up(moved, now)
            self._note(
                f"caught up {probe_id}: its slot passed unsent; now at {iso(moved.scheduled_at)}"
            )
        if missed:
            self.journal.record_missed(missed, now)
            for probe_id in missed:
                self._note(f"missed {probe_id}: its slot ended before it could be sent")

    def _channels_used(self) -> set[str]:
        rows = self.journal.con.execute("SELECT DISTINCT channel FROM probes")
        return {str(r[0]) for r in rows}

    def _drives(self, channel: str) -> bool:
        return self.drive is None or channel in self.drive

    def _next_wake(self) -> datetime | None:
        """The next moment something is due, or None when the campaign is over."""
        candidates: list[datetime] = []
        nxt = self.journal.next_send_at(channels=self.drive)
        if nxt is not None:
            candidates.append(nxt)
        open_channels = self._open_channels()
        for ch in open_channels:
            candidates.append(self._next_poll.get(ch, self.clock.now()))
        sending = self.journal.probes_in(ProbeState.SENDING, channels=self.drive)
        if sending:
            candidates.append(self.clock.now() + timedelta(seconds=self.config.reconcile_after_s))
        if not candidates:
            return None
        return min(candidates)

    def _open_channels(self) -> list[str]:
        rows = self.journal.con.execute(
            "SELECT DISTINCT channel FROM probes WHERE state = 'sent' ORDER BY channel"
        )
        return [str(r[0]) for r in rows if self._drives(str(r[0]))]

    # -- sending -------------------------------------------------------------------------

    async def _send_due(self, now: datetime) -> None:
        due = self.journal.due(now, channels=self.drive)
        if not due:
            return
        sem = asyncio.Semaphore(self.config.send_concurrency)

        async def one(p: PlannedProbe) -> None:
            async with sem:
                if not self.stop_requested:
                    await self._send(p)

        await asyncio.gather(*(one(p) for p in due))

    async def _send(self, probe: PlannedProbe) -> None:
        channel = self.channels[probe.channel]
        attempt = self.journal.begin_attempt(probe.probe_id, self.clock.now())
        self._attempt_real[probe.probe_id] = time.monotonic()
        try:
            sent = await channel.send(probe)
        except DuplicateContent as e:
            self.health.reached(probe.channel, self.clock.now())
            self.journal.record_unknown(attempt, self.clock.now(), f"{DUPLICATE}: {e}")
            self._note(f"{probe.probe_id}: refused as a duplicate; will look it up")
            return
        except OutcomeUnknown as e:
            self._unanswered(probe.channel, e)
            self.journal.record_unknown(attempt, self.clock.now(), str(e))
            self._note(f"{probe.probe_id}: outcome unknown ({e}); will look it up")
            return
        except Transient as e:
            self._unanswered(probe.channel, e)
            self._retry(attempt, probe, str(e), e.retry_at)
            return
        except Unreadable as e:  # a read before the post (whose answers are never strict)
            self._unanswered(probe.channel, e)
            self._retry(attempt, probe, str(e), None)
            return
        except Rejected as e:
            self.health.reached(probe.channel, self.clock.now())
            self.journal.record_failed(attempt, probe.probe_id, self.clock.now(), str(e))
            self._note(f"{probe.probe_id}: refused by the platform: {e}")
            return
        except AuthError as e:
            self._retry(attempt, probe, str(e), None)
            raise StudyError(f"{probe.channel}: {e}; check the credentials and run again") from e
        if self.config.crash_after_send and self.rng.random() < self.config.crash_after_send:
            os._exit(137)
        self.health.reached(probe.channel, self.clock.now())
        self.journal.record_sent(attempt, sent, self.window)
        self._on_sent(probe, sent.message_id, sent.sent_at)

    def _on_sent(self, probe: PlannedProbe, message_id: str, sent_at: datetime) -> None:
        self.matcher.add(
            probe_id=probe.probe_id,
            brand=probe.brand,
            channel=probe.channel,
            handle=probe.handle,
            message_id=message_id,
            sent_at=sent_at,
            closes_at=sent_at + self.window,
            country=probe.country,
        )
        # A new open probe: look at the inbox soon.
        self._interval[probe.channel] = self.config.poll_min_s
        soon = sent_at + timedelta(seconds=self.config.poll_min_s)
        self._next_poll[probe.channel] = min(self._next_poll.get(probe.channel, soon), soon)
        self._note(f"sent {probe.probe_id}")

    def _retry(
        self,
        attempt: int | None,
        probe: PlannedProbe,
        detail: str,
        retry_at: datetime | None,
        *,
        outcome: str = "failed",
    ) -> None:
        now = self.clock.now()
        n = self._failures.get(probe.probe_id, 0) + 1
        self._failures[probe.probe_id] = n
        if retry_at is None:
            backoff = self.config.retry_base_s * 2 ** min(n - 1, 8)
            retry_at = now + timedelta(seconds=self.rng.uniform(0.5, 1.0) * backoff)
        self.journal.record_retry(attempt, probe.probe_id, now, retry_at, detail, outcome=outcome)
        self._note(f"retry {probe.probe_id} at {iso(retry_at)}: {detail}")

    def _unanswered(self, channel: str, e: ChannelError) -> None:
        """Tell the health tracker: a platform that names a time to come back (a 429) or
        refuses the request did answer; any other such error (no connection, a timeout, an
        answer that cannot be read) means it could not be reached."""
        if isinstance(e, Rejected) or (isinstance(e, Transient) and e.retry_at is not None):
            self.health.reached(channel, self.clock.now())
        else:
            self.health.failed(channel, self.clock.now(), str(e))

    async def _reconcile(self) -> None:
        """Look up every send whose outcome is unknown before anything is sent again."""
        for probe in self.journal.probes_in(ProbeState.SENDING, channels=self.drive):
            last = self.journal.last_attempt_at(probe.probe_id)
            first = self.journal.first_attempt_at(probe.probe_id)
            now = self.clock.now()
            if last is not None and (now - last).total_seconds() < self.config.reconcile_after_s:
                continue  # give the platform time to show the post, if it was made
            # An attempt of a previous process is as old, in real time, as this process.
            real = self._attempt_real.get(probe.probe_id, self._started_real)
            if time.monotonic() - real < self.config.reconcile_after_real_s:
                continue
            margin = timedelta(minutes=5)
            if self._duplicate_after_unknown(probe.probe_id):
                margin = MAX_CLOCK_SKEW  # it is there: look as far back as clocks may differ
            since = (first or probe.scheduled_at) - margin
            channel = self.channels[probe.channel]
            try:
                found = await channel.find_sent(probe, since)
            except Unresolvable as e:
                # Excluded from the analysis: neither unanswered nor risked a second time.
                self.journal.record_failed_open(probe.probe_id, now, str(e))
                self._note(f"{probe.probe_id}: {e}")
                continue
            except AuthError as e:
                raise StudyError(
                    f"{probe.channel}: {e}; check the credentials and run again"
                ) from e
            except ChannelError as e:  # Transient, OutcomeUnknown, Unreadable, Rejected
                self._unanswered(probe.channel, e)
                self._note(f"{probe.probe_id}: lookup failed ({e}); will try again")
                continue
            self.health.reached(probe.channel, self.clock.now())
            if found is not None:
                self.journal.record_sent(None, found, self.window, outcome=RECONCILED)
                self._on_sent(probe, found.message_id, found.sent_at)
                self._note(f"{probe.probe_id}: found on the platform, recorded as sent")
            elif self.journal.last_attempt_detail(probe.probe_id).startswith(DUPLICATE):
                # Not our own earlier attempt: the text repeats an older post. Final.
                reason = (
                    "the platform refuses this text as a duplicate of an earlier post of the "
                    "probe account; make each account's texts unique (e.g. with {country})"
                )
                self.journal.record_failed_open(probe.probe_id, now, reason)
                self._note(f"{probe.probe_id}: {reason}")
            else:
                self._retry(None, probe, "looked up: not posted", now, outcome=ABSENT)
                self._note(f"{probe.probe_id}: not on the platform; will send again")

    async def _look_up_own_posts(self, now: datetime) -> None:
        found, note = await self.own_posts.look_up(now)
        for probe, sent in found:
            self._on_sent(probe, sent.message_id, sent.sent_at)
        if note:
            self._note(note)

    def _duplicate_after_unknown(self, probe_id: str) -> bool:
        """Whether the probe's last send was refused as a duplicate after an earlier send of
        unknown outcome (cut off, or looked up in vain): then that send did get through."""
        if not self.journal.last_attempt_detail(probe_id).startswith(DUPLICATE):
            return False
        row = self.journal.con.execute(
            "SELECT count(*) FROM attempts WHERE probe_id = ? "
            "AND outcome IN ('pending', 'unknown', 'absent') AND coalesce(detail, '') NOT LIKE ?",
            (probe_id, f"{DUPLICATE}%"),
        ).fetchone()
        return int(row[0]) > 0

    # -- polling -------------------------------------------------------------------------

    async def _poll_due(self) -> None:
        now = self.clock.now()
        for name in self._open_channels():
            if self._next_poll.get(name, now) <= now:
                await self._poll(name)

    async def _poll(self, name: str) -> None:
        channel = self.channels[name]
        started = self.clock.now()
        try:
            replies, cursor = await channel.inbox(self.journal.cursor(name))
        except AuthError as e:
            raise StudyError(f"{name}: {e}; check the credentials and run again") from e
        except ChannelError as e:  # Transient, OutcomeUnknown, Unreadable, Rejected
            self._unanswered(name, e)
            self._inbox_failed(name, started, e)
            return
        self.health.reached(name, self.clock.now())
        # Seen when the read returned, not when it began: at a simulator's speed, replies
        # are written during the read, after `started` (which stays the safe bound of what
        # the read covered, for closing windows).
        seen = self.clock.now()
        matches = [(r, self.matcher.match(r)) for r in replies]
        matched = [(r, m.probe_id) for r, m in matches]
        ambiguous = {r.reply_id: m.ambiguous for r, m in matches if m.ambiguous}
        new = self.journal.record_inbox(
            name, matched, cursor, started, seen_at=seen, ambiguous=ambiguous
        )
        self._replies_seen += new
        closed = self.journal.close_windows(name, started)
        if new:
            self._note(f"{name}: {new} new repl{'y' if new == 1 else 'ies'}")
        if closed:
            self._note(f"{name}: closed {closed} window(s)")
        self._schedule_poll(name, started, quiet=new == 0)

    def _inbox_failed(self, name: str, at: datetime, error: ChannelError) -> None:
        """Every failed inbox read comes here. The channel's probes stay censored at its last
        good read (its cursor row is untouched), the failure is an `inbox_failed` event for
        `status` and alerts, and the read is tried again later."""
        self.journal.event(at, INBOX_FAILED, None, f"{name}: {error}")
        self._note(f"{name}: inbox read failed ({error}); will try again")
        # Backing off, not pulled in by a window's end: that would read every second.
        interval = min(self._interval.get(name, self.config.poll_min_s) * 2, self.config.poll_max_s)
        self._interval[name] = interval
        self._next_poll[name] = at + timedelta(seconds=interval)

    def _schedule_poll(self, name: str, now: datetime, *, quiet: bool) -> None:
        """Adaptive interval: soon while replies arrive, backing off while quiet, and always
        right after the next window closes, so closure waits for a poll that saw past it."""
        cfg = self.config
        interval = self._interval.get(name, cfg.poll_min_s)
        interval = min(interval * 2, cfg.poll_max_s) if quiet else cfg.poll_min_s
        self._interval[name] = interval
        nxt = now + timedelta(seconds=interval)
        row = self.journal.con.execute(
            "SELECT min(closes_at) FROM probes WHERE state = 'sent' AND channel = ?", (name,)
        ).fetchone()
        if row[0] is not None:
            closes = parse_iso(row[0]) + timedelta(seconds=1)
            nxt = min(nxt, max(closes, now + timedelta(seconds=1)))
        self._next_poll[name] = nxt

    # -- progress ------------------------------------------------------------------------

    def _note(self, text: str) -> None:
        self._last_event = text
        if self.on_event is not None:
            self.on_event(self.clock.now(), text)

    def _report(self, *, force: bool = False) -> None:
        """Progress for the display, and (at most once a second) for `replybench status`."""
        tick = time.monotonic()
        if not force and self.on_progress is None and tick - self._noted < 1.0:
            return
        limits: list[RateLimit] = []
        for ch in self.channels.values():
            rl = getattr(ch, "rate_limits", None)
            if isinstance(rl, dict):
                limits.extend(v for v in rl.values() if isinstance(v, RateLimit))
        snap = Snapshot(
            now=self.clock.now(),
            counts=self.journal.counts(channels=self.drive),
            answered=self.journal.answered_count(),
            next_send=self.journal.next_send_at(channels=self.drive),
            rate_limits=limits,
            last_event=self._last_event,
        )
        if self.on_progress is not None:
            self.on_progress(snap)
        if force or tick - self._noted >= 1.0:
            self._noted = tick
            note = {
                "clock": iso(snap.now),
                "last_event": snap.last_event,
                "rate_limits": [
                    {
                        "endpoint": r.endpoint,
                        "limit": r.limit,
                        "remaining": r.remaining,
                        "reset_at": None if r.reset_at is None else iso(r.reset_at),
                        "reset_clamped_from": r.reset_clamped_from,
                    }
                    for r in limits
                ],
            }
            self.journal.set_meta("progress", json.dumps(note, sort_keys=True))
