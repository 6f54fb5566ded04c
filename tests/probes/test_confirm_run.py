"""`replybench run --confirm`: a person confirms each send (issue 11 item 5), driven on the
in-process simulator with the runner's time injected. The person is a script that answers
each inquiry some minutes after it appears (or never), on the same clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from probes.audit import audit, read_ledger
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.confirm.gate import SKIPPED, UNCONFIRMED, ConfirmGate
from probes.confirm.queue import ConfirmationQueue, Decision, Inquiry
from probes.runner import Runner, RunnerConfig
from probes.sim import XPlatform
from study.clock import ManualClock
from study.journal.campaign import Journal
from study.load import load_study
from study.paths import ledger_path
from study.plan import make_plan
from study.timeutil import parse_iso
from tests.e2e.studies import short_study

pytestmark = pytest.mark.anyio

Policy = Callable[[Inquiry], tuple[Decision, timedelta] | None]


@dataclass(frozen=True)
class Plan:
    at: datetime
    probe_id: str
    decision: Decision


class Person:
    """Decides about each inquiry as `policy` says: what, and how long after it appeared
    (None: never, so its slot passes). Records what it saw and when it decided."""

    def __init__(self, queue: ConfirmationQueue, clock: ManualClock, policy: Policy) -> None:
        self.queue, self.clock, self.policy = queue, clock, policy
        self.plans: list[Plan] = []
        self.offered: dict[str, datetime] = {}
        self.decided: dict[str, tuple[datetime, Decision, str | None]] = {}
        queue.listen(self._offered)

    def _offered(self, inquiry: Inquiry) -> None:
        now = self.clock.now()
        self.offered[inquiry.probe_id] = now
        assert inquiry.scheduled_at <= now < inquiry.slot_end_at  # due, in its slot
        assert inquiry.left(now) == inquiry.slot_end_at - now
        if (answer := self.policy(inquiry)) is not None:
            decision, after = answer
            self.plans.append(Plan(now + after, inquiry.probe_id, decision))

    def act_until(self, until: datetime) -> datetime:
        """Make the first decision planned by `until`; the time it stopped at."""
        due = sorted((p for p in self.plans if p.at <= until), key=lambda p: p.at)
        if not due:
            return until
        first = due[0]
        self.plans.remove(first)
        self.clock.set(first.at)
        why = self.queue.decide(first.probe_id, first.decision, first.at)
        self.decided[first.probe_id] = (first.at, first.decision, why)
        return first.at


class PersonClock(ManualClock):
    """A manual clock whose sleep is cut short when the person decides (as a real decision
    wakes the runner)."""

    person: Person

    async def sleep(self, seconds: float) -> None:
        self.set(self.person.act_until(self.now() + timedelta(seconds=max(seconds, 0))))
        await asyncio.sleep(0)


async def run_with_a_person(study_dir: Path, policy: Policy) -> tuple[Journal, Person]:
    study = load_study(study_dir)
    plan = make_plan(study)
    clock = PersonClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(study_dir))
    journal = Journal.create_or_open(
        study_dir, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
    )
    queue = ConfirmationQueue()
    clock.person = Person(queue, clock, policy)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle),
        base_url="https://api.x.test",
        auth=sim_auth(),
    ) as client:
        channel = XChannel(client, account=study.channel("x").account, clock=clock)
        runner = Runner(
            study, journal, {"x": channel}, clock, config=RunnerConfig(reconcile_after_real_s=0),
            seed=study.seed, drive={"x"}, confirm=ConfirmGate(study, journal, queue, {"x"}),
        )  # fmt: skip
        await runner.run()
    platform.close()
    return journal, clock.person


def policy(inquiry: Inquiry) -> tuple[Decision, timedelta] | None:
    """acorn: confirmed 5 minutes after it appears; birch US: skipped; cedar: never
    answered; the rest: confirmed at once."""
    brand, country = inquiry.brand, inquiry.country
    if brand == "cedar":
        return None
    if (brand, country) == ("birch", "US"):
        return Decision.SKIP, timedelta(minutes=1)
    return Decision.CONFIRM, timedelta(minutes=5 if brand == "acorn" else 0)


async def test_only_confirmed_inquiries_go_the_rest_are_missed_not_confirmed(
    tmp_path: Path,
) -> None:
    d = short_study(tmp_path / "s")
    journal, person = await run_with_a_person(d, policy)
    rows = {
        r["probe_id"]: r
        for r in journal.con.execute(
            "SELECT probe_id, state, sent_at, slot_end_at, detail FROM probes"
        )
    }
    confirmed = {p for p, (_, d, why) in person.decided.items() if d is Decision.CONFIRM}
    assert all(why is None for _, _, why in person.decided.values())
    # Every probe was shown to the person once, in its slot; 13 confirmed (2 cedar never
    # answered, 1 birch skipped).
    assert set(person.offered) == set(rows)
    assert len(confirmed) == 13
    assert {p for p, r in rows.items() if r["state"] == "closed"} == confirmed
    for probe_id in confirmed:  # sent after the person confirmed, within its slot
        at, _, _ = person.decided[probe_id]
        sent_at = parse_iso(rows[probe_id]["sent_at"])
        assert at <= sent_at < parse_iso(rows[probe_id]["slot_end_at"])
        waited = at - person.offered[probe_id]
        assert waited == (timedelta(minutes=5) if probe_id.startswith("acorn") else timedelta(0))
    assert {p: (r["state"], r["detail"]) for p, r in rows.items() if p not in confirmed} == {
        "birch-US-x-r1": ("missed", SKIPPED),
        "cedar-US-x-r1": ("missed", UNCONFIRMED),
        "cedar-DE-x-r1": ("missed", UNCONFIRMED),
    }
    # An unconfirmed probe is missed when its slot ends, not before.
    missed_at = dict(
        journal.con.execute("SELECT probe_id, at FROM events WHERE kind = 'missed'").fetchall()
    )
    for probe_id in ("cedar-US-x-r1", "cedar-DE-x-r1"):
        assert missed_at[probe_id] == rows[probe_id]["slot_end_at"]
    # The platform saw exactly the confirmed posts, and the journal agrees with it.
    account = load_study(d).channel("x").account
    posts = {i["id"] for i in read_ledger(ledger_path(d)) if i.get("author") == account}
    assert len(posts) == 13
    report = audit(load_study(d), d)
    assert report.ok, report.problems
    assert journal.con.execute("SELECT count(*) FROM replies").fetchone()[0] > 0
    journal.close()


async def test_a_decision_after_the_slot_ended_is_refused(tmp_path: Path) -> None:
    """A person who confirms after the slot ended is told so, and nothing is sent: the
    runner gave the inquiry up at the slot's end; and the queue itself refuses a confirm at
    or after the end of a slot even before the runner gives it up."""
    d = short_study(tmp_path / "s", brands=1)

    def late(inquiry: Inquiry) -> tuple[Decision, timedelta]:
        return Decision.CONFIRM, inquiry.slot_end_at - inquiry.scheduled_at + timedelta(hours=1)

    journal, person = await run_with_a_person(d, late)
    assert journal.counts() == {"missed": 2}
    assert person.decided  # it did try, late
    assert [why for _, _, why in person.decided.values()] == [
        f"{p} is not waiting for a decision (decided, sent or missed)" for p in person.decided
    ]
    journal.close()
    queue = ConfirmationQueue()
    t = parse_iso("2026-03-03T10:00:00Z")
    inquiry = Inquiry("p1", "x", "probe", "acorn", "Acorn", "Acorn_US", "US", "United States",
                      "America/New_York", "hi", t, t + timedelta(hours=1))  # fmt: skip
    assert queue.offer(inquiry) and not queue.offer(inquiry)  # shown once
    why = queue.decide("p1", Decision.CONFIRM, inquiry.slot_end_at)
    assert why == "p1: its slot ended at 2026-03-03T11:00:00.000Z; too late"
    assert queue.take() == {}
    assert queue.decide("p1", Decision.SKIP, inquiry.slot_end_at) is None  # skipping is fine
    assert queue.take() == {"p1": Decision.SKIP}
