"""The simulator serves every persona account of a study on Mastodon and Bluesky, as it does on
X (tests/probes/test_sim_personas.py): each account with its own credentials (the token or
app password the simulator issues it), notifications, chats, notification policy and
budgets, and brand bots that answer the persona that asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from probes.channels.common import SIM_TOKEN, sim_credential
from probes.sim.bluesky.face import BlueskyPlatform
from probes.sim.mastodon.face import MastodonPlatform
from study.clock import ManualClock
from study.load import load_study
from study.model import PlannedProbe
from study.plan import make_plan
from tests.e2e.test_personas_fediverse_sim import fediverse_team_study

MASTODON = {"anna": "anna", "ben": "ben"}
BLUESKY = {"cleo": "cleo.bsky.social", "dora": "dora.bsky.social"}


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    return fediverse_team_study(tmp_path / "fedi")


@pytest.fixture
def plan(study_dir: Path) -> list[PlannedProbe]:
    return make_plan(load_study(study_dir))


@pytest.fixture
def mastodon(
    study_dir: Path, plan: list[PlannedProbe]
) -> Iterator[tuple[MastodonPlatform, ManualClock]]:
    clock = ManualClock(min(p.slot_start_at for p in plan))
    platform = MastodonPlatform.for_study(load_study(study_dir), clock)  # as `replybench sim`
    try:
        yield platform, clock
    finally:
        platform.close()


@pytest.fixture
def bluesky(
    study_dir: Path, plan: list[PlannedProbe]
) -> Iterator[tuple[BlueskyPlatform, ManualClock]]:
    clock = ManualClock(min(p.slot_start_at for p in plan))
    platform = BlueskyPlatform.for_study(load_study(study_dir), clock)
    try:
        yield platform, clock
    finally:
        platform.close()


def mastodon_client(platform: MastodonPlatform, account: str) -> httpx.Client:
    """A client with the token the simulator issues to `account`."""
    token = sim_credential(SIM_TOKEN, account)
    return httpx.Client(
        transport=httpx.MockTransport(platform.handle),
        base_url="https://mastodon.test",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_each_mastodon_persona_has_its_own_account_inbox_policy_and_budget(
    mastodon: tuple[MastodonPlatform, ManualClock], plan: list[PlannedProbe]
) -> None:
    platform, clock = mastodon
    for account in MASTODON.values():
        with mastodon_client(platform, account) as c:
            me = c.get("/api/v1/accounts/verify_credentials").json()
            assert me["username"] == account
    for probe in plan:  # each persona posts its own probes, from its own account
        if probe.channel == "mastodon":
            with mastodon_client(platform, MASTODON[probe.persona]) as c:
                r = c.post("/api/v1/statuses", data={"status": probe.text})
                assert r.status_code == 200, r.text
                assert r.json()["account"]["username"] == MASTODON[probe.persona]
    clock.advance(timedelta(days=4).total_seconds())
    seen: dict[str, set[str]] = {}
    for account in MASTODON.values():
        with mastodon_client(platform, account) as c:
            items = c.get("/api/v1/notifications", params={"include_filtered": "true"}).json()
            assert c.get("/api/v2/notifications/policy").status_code == 200
        assert items  # the brands answered each persona, in its own notifications
        seen[account] = {n["status"]["id"] for n in items}
        for n in items:  # each one about a status of the account that asked
            parent = n["status"]["in_reply_to_id"]
            if parent is not None:
                asked = platform.world.statuses[int(parent)].account.username
                assert asked == account
            else:  # a private message mentions only its recipient
                assert n["status"]["visibility"] == "direct"
                assert [m["username"] for m in n["status"]["mentions"]] == [account]
    assert not seen["anna"] & seen["ben"]
    clock.advance(300 - clock.now().timestamp() % 300)  # a fresh window (epoch-aligned)
    with mastodon_client(platform, "anna") as anna, mastodon_client(platform, "ben") as ben:
        for _ in range(300):  # 300 API requests per 5 minutes per token
            assert anna.get("/api/v1/accounts/verify_credentials").status_code == 200
        assert anna.get("/api/v1/accounts/verify_credentials").status_code == 429
        fresh = ben.get("/api/v1/accounts/verify_credentials")
        assert fresh.status_code == 200
        assert fresh.headers["X-RateLimit-Remaining"] == "299"


def login(c: httpx.Client, handle: str, password: str | None = None) -> httpx.Response:
    body = {"identifier": handle, "password": password or sim_credential(SIM_TOKEN, handle)}
    return c.post("/xrpc/com.atproto.server.createSession", json=body)


def test_each_bluesky_persona_logs_in_as_itself_and_has_its_own_inbox_and_budgets(
    bluesky: tuple[BlueskyPlatform, ManualClock], plan: list[PlannedProbe]
) -> None:
    platform, clock = bluesky
    transport = httpx.MockTransport(platform.handle)
    with httpx.Client(transport=transport, base_url="https://bsky.test") as c:
        sessions = {}
        for name, handle in BLUESKY.items():
            r = login(c, handle)
            assert r.status_code == 200, r.text
            assert r.json()["handle"] == handle
            sessions[name] = r.json()
        assert login(c, "acorn-us.bsky.social", "x").status_code == 401  # a brand's: not served
        for probe in plan:
            if probe.channel != "bluesky":
                continue
            s = sessions[probe.persona]
            facets = [
                {
                    "index": {"byteStart": 0, "byteEnd": len(probe.text.split()[0].encode())},
                    "features": [
                        {
                            "$type": "app.bsky.richtext.facet#mention",
                            "did": platform.world.accounts[probe.handle.lstrip("@")].did,
                        }
                    ],
                }
            ]
            record = {
                "$type": "app.bsky.feed.post",
                "text": probe.text,
                "createdAt": clock.now().isoformat().replace("+00:00", "Z"),
                "facets": facets,
            }
            r = c.post(
                "/xrpc/com.atproto.repo.createRecord",
                json={"repo": s["did"], "collection": "app.bsky.feed.post", "record": record},
                headers={"Authorization": f"Bearer {s['accessJwt']}"},
            )
            assert r.status_code == 200, r.text
        clock.advance(timedelta(days=4).total_seconds())
        for name, handle in BLUESKY.items():  # the sessions expired: log in again
            sessions[name] = login(c, handle).json()
        for name, s in sessions.items():
            auth = {"Authorization": f"Bearer {s['accessJwt']}"}
            r = c.get("/xrpc/app.bsky.notification.listNotifications", headers=auth)
            replies = [n for n in r.json()["notifications"] if n["reason"] == "reply"]
            for n in replies:  # answers to this persona's own posts
                assert n["record"]["reply"]["parent"]["uri"].startswith(f"at://{s['did']}/")
            chat = {**auth, "atproto-proxy": "did:web:api.bsky.chat#bsky_chat"}
            convos = c.get("/xrpc/chat.bsky.convo.listConvos", headers=chat).json()["convos"]
            for convo in convos:
                assert s["did"] in {m["did"] for m in convo["members"]}
            assert replies or convos, name  # the brands answered each persona
        # createSession: 30 per 5 minutes per account (the logins above count for theirs)
        for _ in range(29):
            assert login(c, BLUESKY["cleo"]).status_code == 200
        assert login(c, BLUESKY["cleo"]).status_code == 429
        assert login(c, BLUESKY["dora"]).status_code == 200
