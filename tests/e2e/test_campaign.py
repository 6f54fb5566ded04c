"""A whole campaign in-process: the simulator's X face, the X channel, the journal and the
runner on one manual clock, so windows of days pass in a second."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from probes.audit import audit, read_ledger
from probes.channels.base import Cursor, Reply, Sent, Unresolvable
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.runner import Runner, RunnerConfig
from probes.sim import Fault, Faults, XPlatform, faulty
from probes.sim.dispatch import Dispatch
from probes.sim.faults import Decision, answer
from study.clock import ManualClock
from study.journal.campaign import Journal
from study.load import load_study
from study.model import PlannedProbe, Study
from study.paths import ledger_path
from study.plan import make_plan
from study.timeutil import parse_iso
from tests.conftest import EXAMPLE
from tests.e2e.studies import BRANDS, counting, short_study
from tests.probes.x_fakes import sim_signed

pytestmark = pytest.mark.anyio


async def campaign(
    study_dir: Path,
    *,
    fault_rate: float = 0.0,
    clock: ManualClock | None = None,
    platform: XPlatform | None = None,
    config: RunnerConfig | None = None,
    on_event: Callable[[datetime, str], None] | None = None,
    drop_after: Collection[int] = (),
    dropped: list[str] | None = None,
) -> tuple[Study, Journal, XPlatform]:
    """Run the study's whole campaign against the in-process simulator; `drop_after` numbers
    (from 1) the posts (POST /2/tweets) whose connection drops after X applied them, each
    one's text added to `dropped`."""
    study = load_study(study_dir)
    plan = make_plan(study)
    if clock is None:
        clock = ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    if platform is None:
        platform = XPlatform.for_study(study, clock, ledger=ledger_path(study_dir))
    handler = faulty(platform, Faults(fault_rate, seed=12)) if fault_rate else platform.handle
    if drop_after:
        handler = dropping_after(handler, Dispatch(platform), drop_after, dropped)
    journal = Journal.create_or_open(
        study_dir, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler),
        base_url="https://api.x.test",
        auth=sim_auth(),
    ) as client:
        channel = XChannel(client, account=study.channel("x").account, clock=clock)
        # In-process, the platform applies a request before answering it: no real-time grace
        # is needed before looking up an unknown send.
        config = config or RunnerConfig(reconcile_after_real_s=0)
        # The runner drives X; manual probes are people's to send (docs/channels.md).
        runner = Runner(
            study, journal, {"x": channel}, clock, config=config, seed=study.seed, drive={"x"},
            on_event=on_event,
        )  # fmt: skip
        await runner.run()
    platform.close()
    return study, journal, platform


def dropping_after(
    handler: Callable[[httpx.Request], httpx.Response],
    platform: Dispatch,
    numbers: Collection[int],
    dropped: list[str] | None,
) -> Callable[[httpx.Request], httpx.Response]:
    """`handler`, but the posts numbered `numbers` are applied and their connection dropped
    (Fault.DROP_AFTER), whatever the random faults would have done."""
    posts = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.method == "POST" and request.url.path == "/2/tweets":
            posts += 1
            if posts in numbers:
                if dropped is not None:
                    dropped.append(json.loads(request.content)["text"])
                return answer(platform, request, Decision(Fault.DROP_AFTER), sleep=None)
        return handler(request)

    return handle


async def test_a_short_campaign_runs_to_the_end_and_matches_the_ledger(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s")
    study, journal, _ = await campaign(d)
    counts = journal.counts()
    assert counts == {"closed": 16}, counts
    report = audit(study, d)
    assert report.ok, report.problems
    # Replies carry the platform's timestamps: each equals the ledger's created_at.
    ledger = {str(i["id"]): i for i in read_ledger(ledger_path(d))}
    rows = journal.con.execute("SELECT reply_id, created_at FROM replies").fetchall()
    # X reports created_at to the second (".000Z"); the ledger keeps milliseconds.
    assert rows and all(str(ledger[r[0]]["created_at"])[:19] == r[1][:19] for r in rows)
    kinds = {r[0] for r in journal.con.execute("SELECT DISTINCT kind FROM replies")}
    assert {"public_reply", "auto_ack"} <= kinds
    # Every window closed exactly window_hours after its send, after a poll that saw past it.
    for sent_at, closed_at in journal.con.execute("SELECT sent_at, closed_at FROM probes"):
        assert parse_iso(closed_at) - parse_iso(sent_at) == timedelta(hours=6)
    assert journal.meta("last_observation") is not None
    journal.close()


async def test_faults_are_survived_without_double_posts(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s")
    # 30% of requests fail at random; besides, the 1st and 4th posts are applied by X and
    # then their connection drops (injected: the case never depends on the seed's draws).
    dropped: list[str] = []
    study, journal, _ = await campaign(d, fault_rate=0.3, drop_after={1, 4}, dropped=dropped)
    assert journal.counts() == {"closed": 16}
    report = audit(study, d)
    assert report.ok, report.problems
    outcomes = {r[0] for r in journal.con.execute("SELECT DISTINCT outcome FROM attempts")}
    assert "acknowledged" in outcomes
    # Each post applied but unanswered was looked up and found (reconciled), not posted again.
    assert len(dropped) == 2
    texts = {p.text: p.probe_id for p in make_plan(study)}
    posts = Counter(str(i["text"]) for i in read_ledger(ledger_path(d)) if i["kind"] == "post")
    for text in dropped:
        rows = journal.con.execute(
            "SELECT outcome FROM attempts WHERE probe_id = ?", (texts[text],)
        ).fetchall()
        assert "reconciled" in {r[0] for r in rows}, rows
        assert posts[text] == 1
    assert report.reconciled >= 2
    journal.close()


async def test_the_runner_resumes_a_journal_left_mid_send(tmp_path: Path) -> None:
    """A crash between 'sending' committed and the platform's answer: on restart the probe is
    looked up, found absent, and sent once."""
    d = short_study(tmp_path / "s", brands=1)
    study = load_study(d)
    plan = make_plan(study)
    clock = ManualClock(plan[0].scheduled_at)
    j = Journal.create_or_open(d, plan, study_name="s", window_hours=6, now=clock.now())
    j.begin_attempt(plan[0].probe_id, clock.now())  # ... and the process died here
    j.close()
    clock.advance(120)
    _, journal, _ = await campaign(d, clock=clock)
    attempts = journal.con.execute(
        "SELECT outcome FROM attempts WHERE probe_id = ? ORDER BY attempt_id", (plan[0].probe_id,)
    ).fetchall()
    assert [a[0] for a in attempts] == ["absent", "acknowledged"]
    assert audit(study, d).ok
    journal.close()


class Unknowable:
    """The X channel, but its lookups can never tell whether a send went out (as e-mail's,
    after a kill inside the SMTP transaction)."""

    def __init__(self, inner: XChannel) -> None:
        self.inner = inner
        self.name = inner.name
        self.sent: list[str] = []

    async def send(self, probe: PlannedProbe) -> Sent:
        self.sent.append(probe.probe_id)
        return await self.inner.send(probe)

    async def find_sent(self, probe: PlannedProbe, since: datetime) -> Sent | None:
        raise Unresolvable(f"probe {probe.probe_id}: the outcome of this send cannot be learned")

    async def inbox(self, since: Cursor | None) -> tuple[list[Reply], Cursor]:
        return await self.inner.inbox(since)


async def test_a_send_whose_outcome_cannot_be_learned_is_given_up_not_repeated(
    tmp_path: Path,
) -> None:
    d = short_study(tmp_path / "s", brands=1)
    study = load_study(d)
    plan = make_plan(study)
    clock = ManualClock(plan[0].scheduled_at)
    journal = Journal.create_or_open(d, plan, study_name="s", window_hours=6, now=clock.now())
    journal.begin_attempt(plan[0].probe_id, clock.now())  # ... and the process died here
    clock.advance(120)
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle), base_url="https://api.x.test",
        auth=sim_auth(),
    ) as client:  # fmt: skip
        channel = Unknowable(XChannel(client, account=study.channel("x").account, clock=clock))
        config = RunnerConfig(reconcile_after_real_s=0)
        await Runner(study, journal, {"x": channel}, clock, config=config, drive={"x"}).run()
    platform.close()
    state, detail = journal.con.execute(
        "SELECT state, detail FROM probes WHERE probe_id = ?", (plan[0].probe_id,)
    ).fetchone()
    assert state == "failed" and "cannot be learned" in detail
    assert plan[0].probe_id not in channel.sent  # never sent again
    assert journal.counts() == {"failed": 1, "closed": 1}
    journal.close()


class SlowInbox:
    """The X channel, but each inbox read takes ten minutes of the platform's time, as a
    read does at a simulator's speed of thousands: replies are written during the read."""

    def __init__(self, inner: XChannel, clock: ManualClock) -> None:
        self.inner = inner
        self.name = inner.name
        self.clock = clock

    async def send(self, probe: PlannedProbe) -> Sent:
        return await self.inner.send(probe)

    async def find_sent(self, probe: PlannedProbe, since: datetime) -> Sent | None:
        return await self.inner.find_sent(probe, since)

    async def inbox(self, since: Cursor | None) -> tuple[list[Reply], Cursor]:
        self.clock.advance(600)
        return await self.inner.inbox(since)


async def test_a_reply_is_never_seen_before_it_was_written(tmp_path: Path) -> None:
    """Issue 9: the replies export showed seen_at before created_at at high speed: the
    runner stamped seen_at with its clock read before the inbox read began."""
    d = short_study(tmp_path / "s", brands=3)
    study = load_study(d)
    plan = make_plan(study)
    clock = ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    journal = Journal.create_or_open(d, plan, study_name="s", window_hours=6, now=clock.now())
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle), base_url="https://api.x.test",
        auth=sim_auth(),
    ) as client:  # fmt: skip
        channel = SlowInbox(XChannel(client, account=study.channel("x").account, clock=clock),
                            clock)  # fmt: skip
        config = RunnerConfig(reconcile_after_real_s=0)
        await Runner(study, journal, {"x": channel}, clock, config=config, drive={"x"}).run()
    platform.close()
    rows = journal.con.execute("SELECT created_at, seen_at FROM replies").fetchall()
    journal.close()
    gaps = [parse_iso(seen) - parse_iso(made) for made, seen in rows]
    assert gaps and min(gaps) >= timedelta(0), rows
    # The case in question happened: replies written while a read was under way.
    assert any(g < timedelta(minutes=10) for g in gaps)


async def test_a_text_refused_as_a_duplicate_fails_once_instead_of_retrying(
    tmp_path: Path,
) -> None:
    d = short_study(tmp_path / "s", brands=1)
    study = load_study(d)
    plan = make_plan(study)
    clock = ManualClock(plan[0].slot_start_at - timedelta(hours=1))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    # The probe account posted the very same text before (a pilot, say).
    pilot = platform.handle(
        sim_signed(
            httpx.Request("POST", "https://api.x.test/2/tweets", json={"text": plan[0].text})
        )
    )
    assert pilot.status_code == 201
    _, journal, _ = await campaign(d, clock=clock, platform=platform)
    state, detail = journal.con.execute(
        "SELECT state, detail FROM probes WHERE probe_id = ?", (plan[0].probe_id,)
    ).fetchone()
    assert state == "failed" and "duplicate" in detail
    attempts = journal.con.execute(
        "SELECT outcome FROM attempts WHERE probe_id = ?", (plan[0].probe_id,)
    ).fetchall()
    assert [a[0] for a in attempts] == ["rejected"]  # one POST, looked up, given up
    assert journal.counts() == {"failed": 1, "closed": 1}
    journal.close()


def with_manual_targets(study_dir: Path, brands: int = 3) -> Path:
    """Add a `[channels.manual]` table and a phone-line target for the first brands in US."""
    toml = study_dir / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "\n[countries.",
            '\n[channels.manual]\ninstructions = "Call; note the time."\n\n[countries.',
            1,
        ),
        encoding="utf-8",
    )
    with (study_dir / "targets.csv").open("a", encoding="utf-8") as f:
        for n, b in enumerate(BRANDS[:brands]):
            f.write(f"{b},{b.capitalize()} Co,retail,US,manual,+1 212 555 01{n:02d},local\n")
    return study_dir


async def test_a_study_mixing_x_and_manual_targets_leaves_the_manual_probes_planned(
    tmp_path: Path,
) -> None:
    d = with_manual_targets(short_study(tmp_path / "s"))
    study, journal, _ = await campaign(d)
    assert journal.counts() == {"closed": 16, "planned": 3}
    manual = journal.con.execute(
        "SELECT state, text, message_id FROM probes WHERE channel = 'manual'"
    ).fetchall()
    assert [tuple(r)[0::2] for r in manual] == [("planned", None)] * 3
    assert all(r["text"] and "555" not in r["text"] for r in manual)  # said, not dialled
    assert journal.con.execute("SELECT count(*) FROM attempts JOIN probes USING (probe_id) "
                               "WHERE channel = 'manual'").fetchone()[0] == 0  # fmt: skip
    assert audit(study, d).ok
    journal.close()


@pytest.mark.slow
async def test_the_example_study_runs_end_to_end(tmp_path: Path) -> None:
    d = tmp_path / "uxalliance"
    shutil.copytree(EXAMPLE, d)
    study = load_study(d)
    clock = ManualClock(min(p.slot_start_at for p in make_plan(study)) - timedelta(hours=1))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    statuses: Counter[int] = Counter()
    platform.handle = counting(platform.handle, statuses)  # type: ignore[method-assign]
    study, journal, _ = await campaign(d, clock=clock, platform=platform)
    counts = journal.counts()
    assert counts.get("closed", 0) + counts.get("failed", 0) == 501
    assert statuses[429] == 0  # the runner paces itself to X's limits (probes.pacing)
    report = audit(study, d)
    assert report.ok, report.problems[:5]
    brenner = next(r for r in report.rows if r.brand == "brenner")
    kaito = next(r for r in report.rows if r.brand == "kaito")
    assert kaito.answered / kaito.sent > brenner.answered / brenner.sent
    journal.close()
