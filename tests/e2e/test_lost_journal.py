"""A journal lost in the middle of a campaign (deleted, or moved away as an older error message
advised) and started afresh: the new journal's runner looks the due probes up among the probe
account's own posts before its first send, so nothing is posted twice (issue 14 item 1)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from probes.audit import audit
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.runner import Runner, RunnerConfig
from probes.sim import XPlatform
from probes.snapshot import Snapshot
from study.clock import ManualClock
from study.journal.campaign import Journal
from study.load import load_study
from study.paths import journal_path, ledger_path
from study.plan import make_plan
from tests.e2e.studies import short_study

pytestmark = pytest.mark.anyio


async def test_a_journal_started_afresh_mid_campaign_posts_nothing_twice(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s")
    study = load_study(d)
    plan = make_plan(study)
    clock = ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    config = RunnerConfig(reconcile_after_real_s=0)

    def journal() -> Journal:
        return Journal.create_or_open(
            d, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
        )

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle),
        base_url="https://api.x.test",
        auth=sim_auth(),
    ) as client:
        channel = XChannel(client, account=study.channel("x").account, clock=clock)
        first = journal()
        runner = Runner(study, first, {"x": channel}, clock, config=config, drive={"x"})

        def stop_after_five(s: Snapshot) -> None:
            if s.counts.get("sent", 0) >= 5:
                runner.request_stop()

        runner.on_progress = stop_after_five
        await runner.run()
        sent_before = {
            str(r[0]) for r in first.con.execute("SELECT probe_id FROM probes WHERE state='sent'")
        }
        first.close()
        assert len(sent_before) >= 5
        for lost in journal_path(d).parent.glob("journal.sqlite*"):
            shutil.move(lost, tmp_path / lost.name)  # "move it away to start afresh"

        second = journal()
        await Runner(study, second, {"x": channel}, clock, config=config, drive={"x"}).run()
    platform.close()
    assert second.counts() == {"closed": 16}
    report = audit(study, d)
    assert report.ok, report.problems  # no probe posted twice, none lost
    assert sum(r.ledger_posts for r in report.rows) == 16
    found = {
        str(r[0])
        for r in second.con.execute("SELECT probe_id FROM attempts WHERE outcome = 'reconciled'")
    }
    assert found == sent_before  # recorded from the platform, not sent again
    assert second.meta("look_up_own_posts") is None  # looked up once, then done
    second.close()


async def test_a_probe_whose_look_up_fails_waits_for_it_and_is_not_sent_blind(
    tmp_path: Path,
) -> None:
    from datetime import datetime

    from probes.channels.base import Sent, Transient
    from study.model import PlannedProbe

    d = short_study(tmp_path / "s", brands=2)
    study = load_study(d)
    plan = make_plan(study)
    # The runner starts (on a new journal) after the first two probes were due.
    order = sorted(plan, key=lambda p: p.scheduled_at)
    clock = ManualClock(order[1].scheduled_at + timedelta(minutes=1))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    log: list[str] = []

    class Flaky(XChannel):
        async def find_sent(self, probe: PlannedProbe, since: datetime) -> Sent | None:
            if f"look {probe.probe_id}" not in log and not log.count("down"):
                log.append("down")
                raise Transient("X API answered 503")
            log.append(f"look {probe.probe_id}")
            return await super().find_sent(probe, since)

        async def send(self, probe: PlannedProbe) -> Sent:
            log.append(f"send {probe.probe_id}")
            return await super().send(probe)

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle),
        base_url="https://api.x.test",
        auth=sim_auth(),
    ) as client:
        channel = Flaky(client, account=study.channel("x").account, clock=clock)
        j = Journal.create_or_open(
            d, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
        )
        config = RunnerConfig(reconcile_after_real_s=0)
        await Runner(study, j, {"x": channel}, clock, config=config, drive={"x"}).run()
    platform.close()
    first, second = order[0].probe_id, order[1].probe_id
    assert log[0] == "down"  # the first look-up failed: nothing was sent before the next
    looked = [e for e in log if e.startswith("look ")]
    assert sorted(looked) == sorted([f"look {first}", f"look {second}"])  # due ones only
    for pid in (first, second):
        assert log.index(f"look {pid}") < log.index(f"send {pid}")
    assert j.counts() == {"closed": 4}
    assert audit(study, d).ok
    j.close()
