"""The platform goes away mid-campaign: the runner says so, exits with its own code after the
study's max_outage_minutes with the journal whole, and a restart catches up the probes whose
slot passed meanwhile (issue 9 item 7)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from probes.alerts import Alerter
from probes.audit import audit
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.health import OUTAGE_EXIT_CODE, OutageExit
from probes.runner import Runner, RunnerConfig
from probes.sim import XPlatform
from study.clock import ManualClock
from study.journal.campaign import Journal
from study.journal.status import read_status
from study.load import load_study
from study.model import Study
from study.paths import ledger_path
from study.plan import make_plan
from study.timeutil import parse_iso
from tests.e2e.studies import short_study
from tests.probes.alert_receiver import receiver

pytestmark = pytest.mark.anyio

GONE = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # after the first DE probe, before the second
BACK = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)  # the next day, before the DE slot opens


class Outage:
    """The simulated platform, refusing connections from `start` until `end` (clock time)."""

    def __init__(self, platform: XPlatform, clock: ManualClock, start: datetime, end: datetime):
        self.platform, self.clock, self.start, self.end = platform, clock, start, end
        self.refused = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.start <= self.clock.now() < self.end:
            self.refused += 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.platform.handle(request)


def week_study(path: Path, alerts: str = "") -> Path:
    """The short study over a week (DE probes on Wednesday 4 March, US on Tuesday 10 March)."""
    short_study(path)
    toml = (path / "study.toml").read_text(encoding="utf-8")
    toml = toml.replace("end = 2026-03-03", "end = 2026-03-10")
    (path / "study.toml").write_text(toml + alerts, encoding="utf-8")
    return path


async def run(
    study: Study, d: Path, clock: ManualClock, platform: XPlatform, alerter: Alerter | None = None
) -> tuple[Journal, Outage]:
    """One runner process: run until it finishes or exits; the journal is returned open."""
    outage = Outage(platform, clock, GONE, BACK)
    journal = Journal.create_or_open(
        d, make_plan(study), study_name=study.name, window_hours=study.window_hours, now=clock.now()
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(outage.handle), base_url="https://api.x.test",
        auth=sim_auth(),
    ) as client:  # fmt: skip
        channel = XChannel(client, account=study.channel("x").account, clock=clock)
        config = RunnerConfig(reconcile_after_real_s=0)
        runner = Runner(
            study, journal, {"x": channel}, clock, config=config, drive={"x"}, alerter=alerter
        )
        try:
            await runner.run()
        finally:
            if alerter is not None:
                await alerter.drain()
    return journal, outage


async def test_the_runner_exits_after_the_outage_limit_and_a_restart_catches_up(
    tmp_path: Path,
) -> None:
    d = week_study(tmp_path / "s")
    study = load_study(d)
    plan = {p.probe_id: p for p in make_plan(study)}
    clock = ManualClock(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))

    with pytest.raises(OutageExit) as stopped:
        await run(study, d, clock, platform)
    assert stopped.value.exit_code == OUTAGE_EXIT_CODE == 75
    assert "x could not be reached from 2026-03-04T09" in str(stopped.value)
    # It stopped after the study's 60 minutes of failures, not at the campaign's end.
    exited = clock.now()
    journal = Journal.create_or_open(
        d, list(plan.values()), study_name=study.name, window_hours=6, now=exited
    )
    events = journal.con.execute("SELECT kind, at, detail FROM events ORDER BY seq").fetchall()
    kinds = [e[0] for e in events]
    assert kinds.count("unreachable") == 1 and kinds[-1] == "outage_exit"
    unreachable_at = parse_iso(events[kinds.index("unreachable")][1])
    assert unreachable_at >= GONE and exited - GONE <= timedelta(minutes=80)
    # The journal is whole: every attempt finished, nothing left half-sent.
    assert (
        journal.con.execute("SELECT count(*) FROM attempts WHERE outcome = 'pending'").fetchone()[0]
        == 0
    )
    assert journal.counts() == {"sent": 1, "planned": 15}
    attempts = journal.con.execute("SELECT count(*) FROM attempts").fetchone()[0]
    assert attempts <= 6  # a handful of sends, not hundreds
    health = json.loads(journal.meta("health") or "{}")
    assert health["stopped"]["exit_code"] == 75
    assert health["unreachable"]["x"]["since"].startswith("2026-03-04T09")
    journal.close()
    # `replybench status` says what happened, in words.
    s = read_status(d)
    assert s.health["stopped"]["exit_code"] == 75  # type: ignore[index]

    # A service manager restarts it the next day; the platform is back.
    clock.set(BACK)
    journal, outage = await run(study, d, clock, platform)
    platform.close()
    assert journal.counts() == {"closed": 16}  # nothing lost
    moved = journal.con.execute(
        "SELECT probe_id, scheduled_at, caught_up_from, slot_start_at, slot_end_at, sent_at "
        "FROM probes WHERE caught_up_from IS NOT NULL ORDER BY probe_id"
    ).fetchall()
    # The DE probes not sent by 16:00 on the 4th go on the 5th, at their planned time of day.
    assert [m[0] for m in moved] == sorted(
        p for p in plan if p.endswith("-DE-x-r1") and not p.startswith("grove")
    )
    for probe_id, scheduled, original, start, end, sent in moved:
        assert parse_iso(original) == plan[probe_id].scheduled_at
        assert parse_iso(scheduled) == plan[probe_id].scheduled_at + timedelta(days=1)
        assert parse_iso(start) <= parse_iso(sent) < parse_iso(end)
    caught = journal.con.execute("SELECT count(*) FROM events WHERE kind = 'caught_up'")
    assert caught.fetchone()[0] == 7
    assert audit(study, d).ok
    health = json.loads(journal.meta("health") or "{}")
    assert health["unreachable"] == {} and health["stopped"] is None
    journal.close()


async def test_without_catch_up_the_passed_probes_are_missed(tmp_path: Path) -> None:
    d = week_study(tmp_path / "s")
    toml = (d / "study.toml").read_text(encoding="utf-8")
    (d / "study.toml").write_text(
        re.sub(r"(min_spacing_hours = \d+)", r"\1\ncatch_up = false", toml), encoding="utf-8"
    )
    study = load_study(d)
    assert study.catch_up is False
    clock = ManualClock(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    with pytest.raises(OutageExit):
        await run(study, d, clock, platform)
    clock.set(BACK)
    journal, _ = await run(study, d, clock, platform)
    platform.close()
    assert journal.counts() == {"closed": 9, "missed": 7}
    journal.close()


async def test_a_person_is_alerted_when_a_channel_is_out_of_reach(tmp_path: Path) -> None:
    alerts = '\n[alerts]\nurl_env = "REPLYBENCH_ALERT_URL"\nunreachable_minutes = 20\n'
    d = week_study(tmp_path / "s", alerts)
    study = load_study(d)
    clock = ManualClock(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    with receiver() as hook:
        alerter = Alerter(hook.url(), source="REPLYBENCH_ALERT_URL")
        with pytest.raises(OutageExit):
            await run(study, d, clock, platform, alerter)
        clock.set(BACK)
        journal, _ = await run(study, d, clock, platform, alerter)
    platform.close()
    journal.close()
    # One alert, once the channel had failed for 20 minutes; none for the restart, which
    # found the platform back.
    [title] = hook.titles()
    assert re.fullmatch(r"replybench: x unreachable since 2026-03-04 09:0\d UTC", title)
    path, body = hook.posts[0]
    assert path == "/hook/s3cr3t-token" and body["type"] == "failure"
    assert re.search(r"exits \(code 75\) at 2026-03-04T10:0\d", body["message"])
