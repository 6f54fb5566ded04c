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
import os
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from probes.alerts import Alerter
from probes.channels.base import (
    AuthError,
    Channel,
    DuplicateContent,
    OutcomeUnknown,
    Rejected,
    Transient,
    Unreadable,
)
from probes.confirm.gate import ConfirmGate, Gate, Unattended
from probes.health import Health
from probes.late import catch_up_or_miss
from probes.matching import Matcher
from probes.own_posts import OwnPosts
from probes.pacing import Pacer
from probes.polls import Polls
from probes.reconcile import MAX_CLOCK_SKEW, Reconciler
from probes.snapshot import Snapshot, rate_limits
from study.clock import Clock
from study.errors import StudyError
from study.journal.campaign import Journal
from study.journal.sends import DUPLICATE
from study.model import PlannedProbe, ProbeState, Study
from study.timeutil import iso

__all__ = ["MAX_CLOCK_SKEW", "Runner", "RunnerConfig", "RunSummary"]


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
        confirm: ConfirmGate | None = None,
    ) -> None:
        """`drive` names the channels whose probes this runner handles (each needs an adapter
        in `channels`); None means every channel in the journal. `on_event` hears each event
        (sent, replies, closed, missed, caught up, retried, ...) as a line of text. With
        `confirm`, a person confirms each send of its channels (probes.confirm.gate)."""
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
        self.matchers: dict[str, Matcher] = {}  # one per persona: its inbox, its probes
        self.rng = random.Random(seed)
        self.stop_requested = False
        self._failures: dict[str, int] = {}
        self._last_event = ""
        self._noted = 0.0
        self.own_posts = OwnPosts(journal, channels, self.drive, self.window)
        self.pacer = Pacer.resume(journal)  # the platforms' posting and reading limits
        self.polls = Polls(
            journal,
            channels,
            self.matcher,
            self.health,
            clock,
            drive=self.drive,
            poll_min_s=self.config.poll_min_s,
            poll_max_s=self.config.poll_max_s,
            note=self._note,
            pacer=self.pacer,
        )
        self.reconciler = Reconciler(
            journal,
            channels,
            self.health,
            clock,
            window=self.window,
            after_s=self.config.reconcile_after_s,
            after_real_s=self.config.reconcile_after_real_s,
            note=self._note,
            on_sent=self._on_sent,
            retry=self._retry,
        )
        self.gate: Gate = Unattended(journal) if confirm is None else confirm
        self.gate.note = self._note
        self._load_matcher()

    def matcher(self, sender: str) -> Matcher:
        """The matcher of one persona's inbox: a reply it reads answers one of its probes."""
        if sender not in self.matchers:
            self.matchers[sender] = Matcher(self.study)
        return self.matchers[sender]

    def _load_matcher(self) -> None:
        for r in self.journal.records(sent=True):
            if r.message_id is None or not self._drives(r.sender):
                continue
            assert r.sent_at is not None and r.closes_at is not None
            self.matcher(r.sender).add(
                probe_id=r.probe_id,
                brand=r.brand,
                channel=r.channel,
                handle=r.handle,
                message_id=r.message_id,
                sent_at=r.sent_at,
                closes_at=r.closes_at,
                country=r.country,
            )
        for inbox, reply, probe_id in self.journal.inbox_items():
            if self._drives(inbox):
                self.matcher(inbox).remember(reply, probe_id)

    def request_stop(self) -> None:
        self.stop_requested = True

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> RunSummary:
        for name in sorted(self.journal.senders() if self.drive is None else self.drive):
            if name not in self.channels:
                raise StudyError(f"no adapter for persona or channel {name!r} in this runner")
        self.health.start(self.clock.now())
        await self.reconciler.run(self.drive)
        while not self.stop_requested:
            now = self.clock.now()
            await self._look_up_own_posts(now)  # a new or restored journal: before sending
            catch_up_or_miss(self.study, self.journal, self.gate, self.drive, now, self._note)
            await self._send_due(now)
            await self.reconciler.run(self.drive)
            await self.polls.read_due()
            self._report()
            self.health.check(self.clock.now())
            wake = self._next_wake()
            if wake is None:
                break
            delay = (wake - self.clock.now()).total_seconds()
            if delay > 0:  # (a person's decision ends it early: probes.confirm.gate)
                await self.gate.sleep(self.clock, min(delay, self.config.idle_step_s))
        self._report(force=True)
        counts = self.journal.counts()
        return RunSummary(
            counts=counts,
            answered=self.journal.answered_count(),
            replies=self.polls.replies_seen,
            interrupted=self.stop_requested,
        )

    def _drives(self, channel: str) -> bool:
        return self.drive is None or channel in self.drive

    def _next_wake(self) -> datetime | None:
        """The next moment something is due, or None when the campaign is over."""
        candidates: list[datetime] = []
        nxt = self.gate.next_send(self.drive, self.clock.now())
        if nxt is not None:
            candidates.append(nxt)
        candidates.extend(self.polls.next_reads())
        sending = self.journal.probes_in(ProbeState.SENDING, channels=self.drive)
        if sending:
            candidates.append(self.clock.now() + timedelta(seconds=self.config.reconcile_after_s))
        if not candidates:
            return None
        return min(candidates)

    # -- sending -------------------------------------------------------------------------

    async def _send_due(self, now: datetime) -> None:
        # (on channels that need a person, only the probes they confirmed; then paced)
        due = self.gate.admit(self.journal.due(now, channels=self.drive), now)
        due = self.pacer.admit(due, self.journal, now)
        if not due:
            return
        sem = asyncio.Semaphore(self.config.send_concurrency)

        async def one(p: PlannedProbe) -> None:
            async with sem:
                if not self.stop_requested:
                    await self._send(p)

        await asyncio.gather(*(one(p) for p in due))

    async def _send(self, probe: PlannedProbe) -> None:
        channel = self.channels[probe.sender]
        attempt = self.journal.begin_attempt(probe.probe_id, self.clock.now())
        self.reconciler.attempted(probe.probe_id)
        try:
            sent = await channel.send(probe)
        except DuplicateContent as e:
            self.health.reached(probe.sender, self.clock.now())
            self.journal.record_unknown(attempt, self.clock.now(), f"{DUPLICATE}: {e}")
            self._note(f"{probe.probe_id}: refused as a duplicate; will look it up")
            return
        except OutcomeUnknown as e:
            self.health.unanswered(probe.sender, self.clock.now(), e)
            self.journal.record_unknown(attempt, self.clock.now(), str(e))
            self._note(f"{probe.probe_id}: outcome unknown ({e}); will look it up")
            return
        except Transient as e:
            self.health.unanswered(probe.sender, self.clock.now(), e)
            self._retry(attempt, probe, str(e), e.retry_at)
            return
        except Unreadable as e:  # a read before the post (whose answers are never strict)
            self.health.unanswered(probe.sender, self.clock.now(), e)
            self._retry(attempt, probe, str(e), None)
            return
        except Rejected as e:
            self.health.reached(probe.sender, self.clock.now())
            self.journal.record_failed(attempt, probe.probe_id, self.clock.now(), str(e))
            self._note(f"{probe.probe_id}: refused by the platform: {e}")
            return
        except AuthError as e:
            self._retry(attempt, probe, str(e), None)
            raise StudyError(f"{probe.sender}: {e}; check the credentials and run again") from e
        if self.config.crash_after_send and self.rng.random() < self.config.crash_after_send:
            os._exit(137)
        self.health.reached(probe.sender, self.clock.now())
        self.journal.record_sent(attempt, sent, self.window)
        self._on_sent(probe, sent.message_id, sent.sent_at)

    def _on_sent(self, probe: PlannedProbe, message_id: str, sent_at: datetime) -> None:
        self.matcher(probe.sender).add(
            probe_id=probe.probe_id,
            brand=probe.brand,
            channel=probe.channel,
            handle=probe.handle,
            message_id=message_id,
            sent_at=sent_at,
            closes_at=sent_at + self.window,
            country=probe.country,
        )
        self.polls.sent(probe.sender, sent_at)
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

    async def _look_up_own_posts(self, now: datetime) -> None:
        found, note = await self.own_posts.look_up(now)
        for probe, sent in found:
            self._on_sent(probe, sent.message_id, sent.sent_at)
        if note:
            self._note(note)

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
        snap = Snapshot(
            now=self.clock.now(),
            counts=self.journal.counts(channels=self.drive),
            answered=self.journal.answered_count(),
            next_send=self.journal.next_send_at(channels=self.drive),
            rate_limits=rate_limits(self.channels.values()),
            last_event=self._last_event,
        )
        if self.on_progress is not None:
            self.on_progress(snap)
        if force or tick - self._noted >= 1.0:
            self._noted = tick
            self.journal.set_meta("progress", snap.note())
