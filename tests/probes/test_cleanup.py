"""Clean-up: the probe posts of closed windows deleted on the platform, once, and recorded."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from probes.channels.base import AuthError, Rejected, Transient
from probes.channels.mastodon.adapter import MastodonChannel
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.cleanup import MastodonPosts, cleanup
from probes.runner import Runner, RunnerConfig
from probes.sim import Faults, XPlatform, read_ledger, serve_platform
from probes.sim.x.ratelimits import RateLimiter
from probes.snapshot import Snapshot
from replybench.cli import app
from study.clock import ManualClock, anchor_now
from study.errors import StudyError
from study.journal.campaign import Journal
from study.load import load_study
from study.paths import journal_path, ledger_path
from study.plan import make_plan
from tests.e2e.studies import short_study, swap_x_credential
from tests.e2e.test_campaign import campaign
from tests.probes.cassette import FIXTURES, Recorded, Replay, client_for, load_cassette, recorded
from tests.probes.test_bluesky import BSKYR, Fake, bluesky_cassette, channel, err, ok
from tests.probes.x_fakes import START, cassette, sim_signed

pytestmark = pytest.mark.anyio


@contextmanager
def served(platform: XPlatform, clock: ManualClock) -> Iterator[str]:
    """The in-process platform over HTTP on 127.0.0.1, on its own (manual) clock."""
    sim = serve_platform(platform, anchor_now(clock.now(), 1.0), Faults(0.0, 1))
    try:
        yield sim.url
    finally:
        sim.stop()


def start_clock(study_dir: Path) -> ManualClock:
    plan = make_plan(load_study(study_dir))
    return ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))


async def ran(study_dir: Path) -> tuple[ManualClock, XPlatform]:
    """A whole short campaign on the in-process simulator: every window closed."""
    clock = start_clock(study_dir)
    _, journal, platform = await campaign(study_dir, clock=clock)
    assert set(journal.counts()) == {"closed"}
    journal.close()
    return clock, platform


def deleted_on_platform(study_dir: Path) -> list[str]:
    return [str(e["id"]) for e in read_ledger(ledger_path(study_dir)) if e["kind"] == "deleted"]


def journal_rows(study_dir: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(journal_path(study_dir))
    try:
        return [tuple(r) for r in con.execute(sql)]
    finally:
        con.close()


async def test_every_closed_probe_post_is_deleted_once(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s")
    clock, platform = await ran(d)
    seen: list[tuple[int, int]] = []
    with served(platform, clock) as url:
        s = await cleanup(
            d, env={}, api_base=url, clock=clock, on_progress=lambda *a: seen.append(a)
        )
        assert (s.deleted, s.gone, s.earlier, s.open, s.failed) == (16, 0, 0, 0, ())
        assert seen[-1] == (16, 16)
        posts = journal_rows(d, "SELECT probe_id, message_id FROM probes ORDER BY 1")
        events = journal_rows(
            d, "SELECT probe_id, detail FROM events WHERE kind = 'deleted' ORDER BY 1"
        )
        assert events == posts  # each deletion recorded with the message id
        assert sorted(deleted_on_platform(d)) == sorted(str(m) for _, m in posts)

        again = await cleanup(d, env={}, api_base=url, clock=clock)
    assert (again.deleted, again.gone, again.earlier, again.failed) == (0, 0, 16, ())
    assert len(deleted_on_platform(d)) == 16  # nothing deleted twice


async def test_a_post_already_gone_counts_as_deleted(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s", brands=2)
    clock = start_clock(d)
    _, journal, platform = await campaign(d, clock=clock)
    first = str(journal.con.execute("SELECT message_id FROM probes ORDER BY 1").fetchone()[0])
    journal.close()
    # The researcher deleted one by hand on the platform.
    gone = platform.handle(
        sim_signed(httpx.Request("DELETE", f"https://api.x.test/2/tweets/{first}"))
    )
    assert gone.status_code == 200
    with served(platform, clock) as url:
        s = await cleanup(d, env={}, api_base=url, clock=clock)
    assert (s.deleted, s.gone, s.earlier) == (3, 1, 0)
    assert deleted_on_platform(d).count(first) == 1


async def test_a_probe_whose_window_is_open_keeps_its_post(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s")
    study = load_study(d)
    plan = make_plan(study)
    clock = start_clock(d)
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    journal = Journal.create_or_open(
        d, plan, study_name=study.name, window_hours=6, now=clock.now()
    )
    runners: list[Runner] = []

    def halfway(s: Snapshot) -> None:  # stop while some windows are closed and some open
        if s.counts.get("closed", 0) >= 4 and s.counts.get("sent", 0) >= 2:
            runners[0].request_stop()

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle),
        base_url="https://api.x.test",
        auth=sim_auth(),
    ) as client:
        x = XChannel(client, account=study.channel("x").account, clock=clock)
        config = RunnerConfig(reconcile_after_real_s=0)
        runners.append(Runner(study, journal, {"x": x}, clock, config=config, on_progress=halfway))
        await runners[0].run()
    counts = journal.counts()
    open_posts = {
        str(r[0]) for r in journal.con.execute("SELECT message_id FROM probes WHERE state='sent'")
    }
    journal.close()
    assert counts.get("sent", 0) >= 2 and counts.get("closed", 0) >= 4
    with served(platform, clock) as url:
        s = await cleanup(d, env={}, api_base=url, clock=clock)
    assert s.deleted == counts["closed"] and s.open == counts["sent"]
    assert open_posts and not open_posts & set(deleted_on_platform(d))


async def test_rate_limits_are_waited_out(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s")
    clock, platform = await ran(d)
    platform.limits = RateLimiter({"DELETE /2/tweets/:id": 5})  # per 15 minutes
    before = clock.now()
    with served(platform, clock) as url:
        s = await cleanup(d, env={}, api_base=url, clock=clock)
    assert (s.deleted, s.failed) == (16, ())
    assert clock.now() - before >= timedelta(minutes=45)  # 16 deletions: 4 windows


async def test_refusals_come_before_anything_is_deleted(tmp_path: Path) -> None:
    d = swap_x_credential(short_study(tmp_path / "s", brands=1))  # a bearer token
    clock, platform = await ran(d)
    with pytest.raises(StudyError) as e:
        await cleanup(d, env={}, clock=clock)
    assert str(e.value) == (
        "refusing to delete posts at https://api.x.com without --live: [channels.x] is a real "
        "platform. Add --live to delete the study's probe posts there, or point --api-base at "
        "the simulator"
    )
    with pytest.raises(StudyError) as e:
        await cleanup(d, env={}, live=True, clock=clock)
    assert str(e.value).startswith(
        "study.toml [channels.x]: environment variable REPLYBENCH_X_TOKEN is not set"
    )
    with served(platform, clock) as url:
        platform.token = "the-right-one"
        with pytest.raises(StudyError) as e:
            await cleanup(d, env={"REPLYBENCH_X_TOKEN": "s3cr3t-never-shown"}, api_base=url,
                          clock=clock)  # fmt: skip
    assert str(e.value).startswith("x: X API answered 401 Unauthorized")
    assert "s3cr3t-never-shown" not in str(e.value)
    assert deleted_on_platform(d) == []
    empty = short_study(tmp_path / "fresh", brands=1)
    with pytest.raises(StudyError) as e:
        await cleanup(empty, env={}, clock=clock)
    assert str(e.value) == (
        f"{journal_path(empty)}: no journal yet; run the campaign first (replybench run {empty})"
    )


async def test_an_unreachable_platform_fails_fast_after_a_few_posts(tmp_path: Path) -> None:
    """Each post waits out every retry (about 100 s of real time against a dead endpoint);
    after two posts in a row fail that way, the others are not tried."""
    import socket

    d = short_study(tmp_path / "s")
    clock, _ = await ran(d)
    with socket.socket() as s:  # a port on this machine that nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    before = clock.now()
    s = await cleanup(d, env={}, api_base=dead, clock=clock)
    assert (s.deleted, s.gone, len(s.failed)) == (0, 0, 16)
    assert all("ConnectError" in line for line in s.failed[:2])
    assert all(line.endswith("not tried, the x posts before it could not be deleted either")
               for line in s.failed[2:])  # fmt: skip
    assert clock.now() - before < timedelta(minutes=5)  # the retries of two posts (~80 s each)
    assert journal_rows(d, "SELECT count(*) FROM events WHERE kind = 'deleted'") == [(0,)]


# -- the command ----------------------------------------------------------------------------


def test_the_command_deletes_on_the_simulator_without_live(tmp_path: Path) -> None:
    import asyncio

    d = short_study(tmp_path / "s", brands=1)
    clock, platform = asyncio.run(ran(d))
    cli = CliRunner()
    result = cli.invoke(app, ["cleanup", str(d)], env={"REPLYBENCH_X_TOKEN": ""})
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(
        "Error: refusing to delete posts at https://api.x.com without --live"
    )
    with served(platform, clock) as url:
        result = cli.invoke(app, ["cleanup", str(d), "--api-base", url], env={})
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "deleted 2 probe post(s), 0 already gone, 0 deleted before; kept 0 (window still "
        "open); 0 with nothing to delete (e-mail, manual)"
    )


# -- each platform's delete -----------------------------------------------------------------


async def test_x_delete_replays_the_recorded_answer_and_reads_gone_and_429() -> None:
    clock = ManualClock(START)
    replay = Replay(cassette("test_client_get_me.yaml", "test_client_create_and_delete_tweet.yaml"))
    async with replay.client() as client:
        x = XChannel(client, account="TweepyDev", clock=clock)
        assert await x.delete("1456012973835788293") is True  # {"data":{"deleted":true}}
    assert [r.method for r in replay.requests] == ["GET", "DELETE"]

    reset = START + timedelta(minutes=15)
    answers = [
        httpx.Response(429, headers={"x-rate-limit-limit": "50", "x-rate-limit-remaining": "0",
                                     "x-rate-limit-reset": str(int(reset.timestamp()))}),
        httpx.Response(200, json={"errors": [{"type": "https://api.twitter.com/2/problems/"
                                              "resource-not-found", "title": "Not Found Error"}]}),
    ]  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/2/users/me":
            return httpx.Response(200, json={"data": {"id": "1", "username": "TweepyDev"}})
        return answers.pop(0)

    async with client_for(handler) as client:
        x = XChannel(client, account="TweepyDev", clock=clock)
        with pytest.raises(Transient) as e:
            await x.delete("1522929456142245888")
        assert e.value.retry_at == reset
        with pytest.raises(Transient, match="rate limit spent"):  # not even asked
            await x.delete("1522929456142245888")
        clock.set(reset + timedelta(seconds=1))
        assert await x.delete("1522929456142245888") is False  # already gone


async def test_bluesky_delete_replays_the_recorded_answer_and_refuses_others_posts() -> None:
    clock = ManualClock(START)
    deletion = next(r for r in bluesky_cassette("r_post_delete_post.yml") if "delete" in r.path)
    uri = f"at://{BSKYR}/app.bsky.feed.post/3lpres4gwbf27"
    script = {"com.atproto.repo.deleteRecord": [deletion, ok({})]}
    fake = Fake(clock, script)
    async with fake.client() as client:
        bsky = channel(client, clock)
        assert await bsky.delete(uri) is True
        assert await bsky.delete(uri) is False  # the PDS commits nothing: it was gone
        body = fake.calls("com.atproto.repo.deleteRecord")[0].read()
        assert b'"rkey":"3lpres4gwbf27"' in body.replace(b" ", b"")
        with pytest.raises(Rejected, match="is not a post of"):
            await bsky.delete("at://did:plc:someoneelse/app.bsky.feed.post/3lpres4gwbf27")
    failing = Fake(clock, {"com.atproto.repo.deleteRecord": [err(502, "BadGateway", "down")]})
    async with failing.client() as client:
        with pytest.raises(Transient):
            await channel(client, clock).delete(uri)


def mastodon_recordings() -> list[Recorded]:
    name = "mastodon/test_conversations.yaml"
    return [
        recorded(name, "GET", "/api/v1/accounts/verify_credentials"),
        recorded(name, "DELETE", "/api/v1/statuses/117020593780198542"),
    ]


async def test_mastodon_posts_are_deleted_as_recorded_and_gone_is_not_an_error() -> None:
    clock = ManualClock(datetime(2026, 8, 1, 13, 56, tzinfo=UTC))
    replay = Replay(mastodon_recordings())
    async with replay.client("http://localhost:3000") as client:
        md = MastodonChannel(client, account="admin", instance="localhost", clock=clock)
        posts = MastodonPosts(client, md, clock)
        assert await posts.delete("117020593780198542") is True
    assert [r.method for r in replay.requests] == ["GET", "DELETE"]
    missing = load_cassette(FIXTURES / "mastodon" / "test_status_missing.yaml")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("verify_credentials"):
            return mastodon_recordings()[0].response(request)
        if request.url.path.endswith("/1"):
            return httpx.Response(401, json={"error": "The access token is invalid"})
        return missing[0].response(request)

    async with client_for(handler, "http://localhost:3000") as client:
        md = MastodonChannel(client, account="admin", instance="localhost", clock=clock)
        posts = MastodonPosts(client, md, clock)
        assert await posts.delete("117020593780198543") is False
        with pytest.raises(AuthError, match="write:statuses"):
            await posts.delete("1")


# -- every platform, end to end -------------------------------------------------------------

MIXED_TARGETS = """\
acorn,Acorn Co,retail,US,mastodon,acorn@mastodon.social,local
birch,Birch Co,retail,US,mastodon,birch@social.example,local
acorn,Acorn Co,retail,US,bluesky,acorn.bsky.social,local
birch,Birch Co,retail,US,bluesky,birch.bsky.social,local
"""


@pytest.mark.slow
def test_a_campaign_on_x_mastodon_and_bluesky_is_cleaned_up_on_the_simulator(
    tmp_path: Path,
) -> None:
    import asyncio

    from probes.campaign import run_campaign
    from tests.e2e.multichannel import SharedClock, serve_on
    from tests.probes.test_accounts import CHANNELS

    d = short_study(tmp_path / "s", brands=2)
    toml = d / "study.toml"
    tables = CHANNELS.split("[channels.email]")[0]
    toml.write_text(toml.read_text("utf-8").replace("\n[countries.", tables + "\n[countries.", 1))
    with (d / "targets.csv").open("a", encoding="utf-8") as f:
        f.write(MIXED_TARGETS)
    # The runner, the simulator and the cleanup share the test's clock, which moves only when
    # the runner sleeps: every probe is sent in its slot however busy the machine is.
    clock = SharedClock(min(p.slot_start_at for p in make_plan(load_study(d))) - timedelta(hours=1))
    sim = serve_on(d, clock)
    try:
        ran = asyncio.run(run_campaign(d, api_base=sim.url, env={}, clock=clock))
        assert ran.counts == {"closed": 8}
        s = asyncio.run(cleanup(d, env={}, api_base=sim.url, clock=clock))
        again = asyncio.run(cleanup(d, env={}, api_base=sim.url, clock=clock))
    finally:
        sim.stop()
    assert (s.deleted, s.failed, again.deleted, again.earlier) == (8, (), 0, 8)
    posts = journal_rows(
        d, "SELECT channel, message_id FROM probes WHERE state = 'closed' ORDER BY 1, 2"
    )
    ledger = read_ledger(ledger_path(d))
    deleted = sorted(
        (e.get("channel", "x"), str(e["id"])) for e in ledger if e["kind"] == "deleted"
    )
    assert deleted == sorted((str(c), str(m)) for c, m in posts)
    assert {c for c, _ in deleted} <= {"x", "mastodon", "bluesky"}
