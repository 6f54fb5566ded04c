"""The simulator serves every persona account of a study on X: each with its own credentials
(the built-in app's own pair per account), its own mentions and DM inbox, its own request
budgets, and brand bots that answer the persona that asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.sim.x.face import XPlatform
from study.clock import ManualClock
from study.load import load_study
from study.plan import make_plan
from tests.e2e.studies import team_study

pytestmark = pytest.mark.anyio
ACCOUNTS = {"anna": "anna_probe", "ben": "ben_probe", "cleo": "cleo_probe"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[XPlatform, ManualClock, Path]]:
    d = team_study(tmp_path / "team")
    toml = d / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('gender = "m"', 'gender = "m"\nfollowers = 812'),
        encoding="utf-8",
    )
    study = load_study(d)
    clock = ManualClock(min(p.slot_start_at for p in make_plan(study)))
    platform = XPlatform.for_study(study, clock)  # as `replybench sim` builds it: enforcing
    try:
        yield platform, clock, d
    finally:
        platform.close()


def client(platform: XPlatform, account: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle),
        base_url="https://api.x.test",
        auth=sim_auth(account),
    )


async def test_each_persona_signs_in_as_its_own_account_with_its_followers(
    world: tuple[XPlatform, ManualClock, Path],
) -> None:
    platform, clock, _ = world
    for name, account in ACCOUNTS.items():
        async with client(platform, account) as c:
            r = await c.get("/2/users/me", params={"user.fields": "public_metrics"})
            assert r.status_code == 200, r.text
            data = r.json()["data"]
            assert data["username"] == account, name
            followers = data["public_metrics"]["followers_count"]
            assert followers == (812 if name == "ben" else 0)
            channel = XChannel(c, account=account, clock=clock)
            assert await channel.me() == data["id"]  # the channel's own check passes
    async with client(platform, "nobody_probe") as c:  # not an account the study has
        assert (await c.get("/2/users/me")).status_code == 401


async def test_brand_bots_answer_the_persona_that_asked(
    world: tuple[XPlatform, ManualClock, Path],
) -> None:
    platform, clock, d = world
    plan = make_plan(load_study(d))
    for probe in plan:  # each persona posts its own probes, from its own account
        async with client(platform, ACCOUNTS[probe.persona]) as c:
            r = await c.post("/2/tweets", json={"text": probe.text})
            assert r.status_code == 201, r.text
    clock.advance(timedelta(days=4).total_seconds())
    async with client(platform, "anna_probe") as c:
        await c.get("/2/users/me")  # applies every bot action due
    w = platform.world
    probes = {p.id: p for p in w.posts.values() if p.author.role == "probe"}
    assert {p.author.username for p in probes.values()} == set(ACCOUNTS.values())
    replies = [p for p in w.posts.values() if p.author.role == "brand"]
    dms = [e for e in w.dms if e.sender.role == "brand"]
    assert replies and dms  # the bots answered publicly and by DM
    for reply in replies:
        asked = probes[reply.conversation_id].author
        assert reply.in_reply_to_user_id == asked.id
        assert reply.text.startswith(f"@{asked.username} ")
    for dm in dms:  # a DM goes to an account that asked that brand
        askers = {
            p.author.username
            for p in probes.values()
            if dm.sender.username.lower() in p.text.lower()
        }
        assert dm.recipient.username in askers


async def test_each_account_has_its_own_request_budget(
    world: tuple[XPlatform, ManualClock, Path],
) -> None:
    platform, _, _ = world
    async with client(platform, "anna_probe") as anna, client(platform, "ben_probe") as ben:
        for _ in range(75):  # users/me: 75 per 15 minutes per user
            assert (await anna.get("/2/users/me")).status_code == 200
        spent = await anna.get("/2/users/me")
        assert spent.status_code == 429
        fresh = await ben.get("/2/users/me")
        assert fresh.status_code == 200
        assert fresh.headers["x-rate-limit-remaining"] == "74"
