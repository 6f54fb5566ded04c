"""Whole campaigns against a hostile or broken X: odd answers, unreadable inboxes, absurd
resets, a runner clock ahead of the platform's, and the simulator as a real server giving
HTML, broken JSON, 50 MB bodies, resets in the year 5138 and slow drips. Every campaign ends
with a clear outcome: nothing lost, nothing posted twice, no crash, memory bounded."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from probes.audit import audit
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.health import OutageExit
from probes.runner import Runner, RunnerConfig
from probes.sim import XPlatform
from probes.sim.faults import HOSTILE, HTML_PAGE, HUGE_BYTES, Fault, Faults
from probes.snapshot import Snapshot
from replybench.cli import app
from study.clock import Clock, ManualClock
from study.journal.campaign import Journal
from study.journal.status import read_status
from study.load import load_study
from study.paths import ledger_path
from study.plan import make_plan
from tests.e2e.multichannel import SharedClock, serve_on
from tests.e2e.studies import short_study

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx.Request], httpx.Response]
HTML = httpx.Response(200, headers={"content-type": "text/html"}, content=HTML_PAGE)


class Ahead:
    """The runner's clock, `by` ahead of the platform's (the runner's sleeps are the
    platform clock's: a manual one moves, a scaled one waits)."""

    def __init__(self, platform: Clock, by: timedelta) -> None:
        self.platform, self.by = platform, by

    def now(self) -> datetime:
        return self.platform.now() + self.by

    async def sleep(self, seconds: float) -> None:
        await self.platform.sleep(seconds)


def dated(handler: Handler, clock: ManualClock) -> Handler:
    """The platform's answers with its Date header, as every HTTP server sends one."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        response.headers["date"] = format_datetime(clock.now(), usegmt=True)
        return response

    return handle


def drop_first_post(platform: XPlatform) -> Handler:
    """The first post is applied, then the connection drops before the answer."""
    posts = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        response = platform.handle(request)
        if request.method == "POST":
            posts += 1
            if posts == 1:
                raise httpx.RemoteProtocolError("Server disconnected", request=request)
        return response

    return handle


def mentions_answer(
    platform: XPlatform, odd: Callable[[httpx.Request], httpx.Response | None]
) -> Handler:
    """Mentions reads answered by `odd` (the platform's own answer when it gives None)."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/mentions"):
            answer = odd(request)
            if answer is not None:
                return answer
        return platform.handle(request)

    return handle


async def campaign(
    d: Path,
    wrap: Callable[[XPlatform, ManualClock], Handler],
    *,
    ahead: timedelta = timedelta(0),
    stop_after: timedelta | None = None,
) -> tuple[Journal, XPlatform, ManualClock]:
    """The study's campaign in-process on a manual clock, the platform's answers through
    `wrap`; the runner's clock `ahead` of the platform's; stopped `stop_after` the start."""
    study = load_study(d)
    plan = make_plan(study)
    clock = ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    runner_clock = Ahead(clock, ahead)
    journal = Journal.create_or_open(
        d, plan, study_name=study.name, window_hours=study.window_hours, now=runner_clock.now()
    )
    end = None if stop_after is None else runner_clock.now() + stop_after
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(wrap(platform, clock)),
        base_url="https://api.x.test", auth=sim_auth(),
    ) as client:  # fmt: skip
        channel = XChannel(client, account=study.channel("x").account, clock=runner_clock)
        runner = Runner(
            study, journal, {"x": channel}, runner_clock,
            config=RunnerConfig(reconcile_after_real_s=0), seed=study.seed, drive={"x"},
        )  # fmt: skip

        def progress(s: Snapshot) -> None:
            if end is not None and s.now >= end:
                runner.request_stop()

        runner.on_progress = progress
        try:
            with anyio.fail_after(120):  # virtual time: a campaign takes well under a second
                await runner.run()
        except BaseException:
            journal.close()
            raise
        finally:
            platform.close()
    return journal, platform, clock


def outcomes(journal: Journal, probe_id: str) -> list[str]:
    rows = journal.con.execute(
        "SELECT outcome FROM attempts WHERE probe_id = ? ORDER BY attempt_id", (probe_id,)
    )
    return [str(r[0]) for r in rows]


# -- item 3: a runner clock ahead of the platform's -----------------------------------------


@pytest.mark.parametrize("with_date", [True, False], ids=["date-header", "no-date-header"])
async def test_a_runner_10_minutes_ahead_finds_the_post_it_lost(
    tmp_path: Path, with_date: bool
) -> None:
    """The first post is accepted, the answer lost. With X's Date header the look-up starts
    on X's clock and finds the post at once; without one, the resend's duplicate-content
    refusal says it exists, and a look-up far enough back finds it. Never `failed`."""
    d = short_study(tmp_path / "s", brands=1)

    def wrap(platform: XPlatform, clock: ManualClock) -> Handler:
        handler = drop_first_post(platform)
        return dated(handler, clock) if with_date else handler

    journal, _, _ = await campaign(d, wrap, ahead=timedelta(minutes=10))
    assert journal.counts() == {"closed": 2}
    first = journal.con.execute(
        "SELECT probe_id FROM attempts ORDER BY attempt_id LIMIT 1"
    ).fetchone()[0]
    if with_date:
        assert outcomes(journal, first) == ["reconciled"]
    else:  # looked up in vain, sent again, refused as a duplicate, found
        assert outcomes(journal, first) == ["absent", "reconciled"]
    report = audit(load_study(d), d)
    assert report.ok, report.problems
    journal.close()


# -- items 4 and 5: odd and unreadable answers ------------------------------------------------


def html_until(hours: float) -> Callable[[XPlatform, ManualClock], Handler]:
    def wrap(platform: XPlatform, clock: ManualClock) -> Handler:
        end = clock.now() + timedelta(hours=hours)
        return mentions_answer(platform, lambda r: HTML if clock.now() < end else None)

    return wrap


def patient(d: Path, minutes: int) -> Path:
    """The study with `max_outage_minutes` (the runner's exit when a channel stays cut off)."""
    toml = d / "study.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("[study]\n", f"[study]\nmax_outage_minutes = {minutes}\n", 1))
    return d


async def test_an_html_inbox_is_a_failed_read_and_windows_stay_open(tmp_path: Path) -> None:
    """Mentions answered with an HTML page from the first read on: no window closes as
    "unanswered" (the probes stay censored at the last good read: none); the reads count as
    the channel cut off, so after max_outage_minutes the run exits (code 75), and `status`
    says why."""
    d = short_study(tmp_path / "s", brands=2, window_hours=3)
    with pytest.raises(OutageExit):
        await campaign(d, html_until(10**4))
    s = read_status(d)
    assert s.states == {"planned": 3, "sent": 1}  # sent, and never closed as unanswered
    assert list(s.inbox_failures) == ["x"]
    assert "not JSON" in s.inbox_failures["x"] and "'<!DOCTYPE html>" in s.inbox_failures["x"]
    assert "not JSON" in str(s.health)


async def test_after_an_unreadable_spell_the_replies_are_all_read(tmp_path: Path) -> None:
    """HTML for the first 9 hours (the study lets the runner wait a day for a channel), then
    good reads: every reply the brands sent is found and the windows close after good reads
    only."""
    d = patient(short_study(tmp_path / "s", brands=2, window_hours=3), 24 * 60)
    journal, _, _ = await campaign(d, html_until(9))
    assert set(journal.counts()) == {"closed"}
    failed = journal.con.execute(
        "SELECT count(*) FROM events WHERE kind = ?", ("inbox_failed",)
    ).fetchone()[0]
    assert failed >= 1
    report = audit(load_study(d), d)
    assert report.ok, report.problems
    assert journal.answered_count() >= 1
    journal.close()
    assert read_status(d).inbox_failures == {}  # good reads since


def endless(request: httpx.Request) -> httpx.Response:
    token = request.url.params.get("pagination_token", "t0")
    body = {"data": [{"id": "7", "text": "hi", "author_id": "1",
                      "created_at": "2026-03-03T08:00:00Z"}],
            "meta": {"next_token": f"t{int(token[1:]) + 1}"}}  # fmt: skip
    return httpx.Response(200, json=body)


def integer_ids(platform: XPlatform) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(platform.handle(request).content)
        for item in body.get("data", []):
            item["id"] = int(item["id"])
        return httpx.Response(200, json=body)

    return answer


def long_post_ids(platform: XPlatform, clock: ManualClock) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        response = platform.handle(request)
        if request.method == "POST" and response.status_code == 201:
            body = json.loads(response.content)
            body["data"]["id"] = body["data"]["id"] + "0" * 21  # 40 digits
            return httpx.Response(201, json=body)
        return response

    return handle


def until(
    hour: int, odd: Callable[[httpx.Request], httpx.Response], clock: ManualClock
) -> Callable[[httpx.Request], httpx.Response | None]:
    """`odd` answers until `hour` o'clock of the campaign's day (short_study's 3 March
    2026, UTC), then the platform's own."""
    end = datetime(2026, 3, 3, hour, tzinfo=UTC)
    return lambda r: odd(r) if clock.now() < end else None


SPENT_TILL_5138 = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "99999999999"}
ODD: dict[str, Callable[[XPlatform, ManualClock], Handler]] = {
    "400": lambda p, c: mentions_answer(
        p, until(14, lambda r: httpx.Response(400, json={"title": "Invalid Request"}), c)
    ),
    "404": lambda p, c: mentions_answer(
        p, until(14, lambda r: httpx.Response(404, json={"title": "Not Found Error"}), c)
    ),
    "endless-pages": lambda p, c: mentions_answer(p, until(11, endless, c)),
    "integer-ids": lambda p, c: mentions_answer(p, integer_ids(p)),
    "40-digit-post-ids": long_post_ids,
    "reset-in-5138": lambda p, c: mentions_answer(
        p, until(12, lambda r: httpx.Response(429, headers=SPENT_TILL_5138), c)
    ),
}
FAILING_READS = {"400", "404", "endless-pages", "reset-in-5138"}


@pytest.mark.parametrize("odd", list(ODD))
async def test_odd_answers_do_not_crash_the_run(tmp_path: Path, odd: str) -> None:
    """Each odd answer ends the campaign with every probe closed, none failed, no crash."""
    d = short_study(tmp_path / "s", brands=2, window_hours=3)
    journal, _, _ = await campaign(d, ODD[odd])
    assert journal.counts() == {"closed": 4}
    failures = [str(r[0]) for r in journal.con.execute(
        "SELECT detail FROM events WHERE kind = ?", ("inbox_failed",))]  # fmt: skip
    assert bool(failures) == (odd in FAILING_READS), failures
    ids = [str(r[0]) for r in journal.con.execute("SELECT message_id FROM probes")]
    assert {len(i) for i in ids} == ({40} if odd == "40-digit-post-ids" else {19})
    if odd == "reset-in-5138":
        assert any("rate limit spent until 2026-03-04" in f for f in failures), failures
    if odd == "integer-ids":
        assert journal.answered_count() >= 1
        assert audit(load_study(d), d).ok
    journal.close()


async def test_status_warns_of_failing_reads_and_a_clamped_reset(tmp_path: Path) -> None:
    """Stopped while X's mentions budget is "spent until 5138": `replybench status` says the
    inbox reads are failing and that the reset was clamped to a day."""
    d = short_study(tmp_path / "s", brands=2, window_hours=3)
    journal, _, _ = await campaign(d, ODD["reset-in-5138"], stop_after=timedelta(hours=4))
    journal.close()
    result = CliRunner().invoke(app, ["status", str(d)])
    assert result.exit_code == 0, result.output
    ours = ("warning: x inbox", "warning: GET")  # (not the sending period's, by the real date)
    lines = [line for line in result.output.splitlines() if line.startswith(ours)]
    assert len(lines) == 2, result.output
    assert lines[0].startswith("warning: x inbox reads failing since 2026-03-03T10:5")
    assert "rate limit spent until 2026-03-04 10:5" in lines[0]
    assert lines[1].startswith(
        "warning: GET /2/users/:id/mentions: the platform said its rate limit resets at "
        "'99999999999'; waiting at most until 2026-03-04T10:5"
    )


# -- the simulator as a hostile server ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", [*HOSTILE, None], ids=[*map(str, HOSTILE), "mixed"])
async def test_a_hostile_server_ends_every_campaign_clearly(
    tmp_path: Path, kind: Fault | None
) -> None:
    """`replybench sim`'s server answering a share of requests with HTML, broken JSON, 50 MB,
    a reset in 5138 or a slow drip (one kind, or all but the reset mixed: a reset a day ahead
    on the first request would leave nothing else to see): the campaign ends with every probe
    closed or missed, the ledger agrees with the journal, and memory stays bounded."""
    # Failures in a row for an hour would be an outage (exit 75, test_hostile's HTML inbox):
    # here the runner may wait a day, so the campaign shows what the answers themselves do.
    d = patient(short_study(tmp_path / "s", brands=2, window_hours=3), 24 * 60)
    study = load_study(d)
    plan = make_plan(study)
    weights = {k: w for k, w in HOSTILE.items() if k is not Fault.ABSURD_RESET}
    if kind is not None:
        weights = {kind: 1.0}
    # The server and the runner share the test's clock, which moves only when the runner
    # sleeps: a drip or a 50 MB body costs real seconds but no slot, so what is asserted below
    # (a probe closed) holds however busy the machine is. (On a scaled clock a slow machine
    # could miss every probe.) A reset in 5138 is clamped to a day: a day's sleep is instant.
    clock = SharedClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    sim = serve_on(d, clock, Faults(0.3, study.seed, weights=weights))
    tracemalloc.start()
    try:
        journal = Journal.create_or_open(
            d, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
        )
        async with httpx.AsyncClient(base_url=sim.url, auth=sim_auth(), timeout=10) as client:
            channel = XChannel(client, account=study.channel("x").account, clock=clock,
                               deadline=1.0)  # fmt: skip
            # An unknown send is looked up at once: the simulator applies a post before its
            # answer goes wrong, and real seconds say nothing on this clock.
            runner = Runner(study, journal, {"x": channel}, clock, seed=study.seed, drive={"x"},
                            config=RunnerConfig(reconcile_after_real_s=0))  # fmt: skip
            with anyio.fail_after(300):  # a hang guard only: no assertion on time
                summary = await runner.run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        faults = sim.faults
        sim.stop()
    assert not summary.interrupted
    assert set(summary.counts) <= {"closed", "missed"}, summary.counts
    if kind is not Fault.ABSURD_RESET:  # a reset a day ahead may cost every slot
        assert summary.counts.get("closed", 0) >= 1
    missed = journal.con.execute("SELECT detail FROM probes WHERE state = 'missed'").fetchall()
    assert all(r[0] for r in missed)  # each says why (e.g. "rate limit spent until ...")
    report = audit(study, d)
    assert report.ok, report.problems
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    seen = {f for f in faults.counts if f is not Fault.NONE}
    assert (kind in seen) if kind is not None else len(seen) >= 3, faults.counts
    # The client hangs up at 4 MB: the server wrote what the sockets' buffers took beyond.
    assert faults.huge_bytes_sent <= faults.counts[Fault.HUGE] * HUGE_BYTES // 2
    journal.close()
