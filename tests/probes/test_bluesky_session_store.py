"""The Bluesky session kept in the token store, against the simulator's Bluesky face: a
restarted runner goes on with the stored JWTs (no createSession), a spent refresh JWT costs
one login, the login limits of bsky.social, and an app password without the DM privilege
refused for chat in one clear line."""

from __future__ import annotations

import random
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from probes.channels.base import AuthError
from probes.channels.bluesky.adapter import BlueskyChannel, preflight
from probes.channels.bluesky.session import STORE_KIND
from probes.channels.tokens import TokenStore
from probes.sim.bluesky.face import BlueskyPlatform
from study.clock import ManualClock
from tests.probes.test_bluesky import ACCOUNT, BSKY
from tests.probes.test_sim_bluesky import PASSWORD, bluesky_study, call

pytestmark = pytest.mark.anyio
START = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


def face(tmp_path: Path, clock: ManualClock, **kw: Any) -> BlueskyPlatform:
    return BlueskyPlatform(bluesky_study(tmp_path), clock, password=PASSWORD, bots=False, **kw)


async def one_run(platform: BlueskyPlatform, store: TokenStore, clock: ManualClock) -> None:
    """A runner's start: a new process, a new client, the same store; one inbox read."""
    transport = httpx.MockTransport(platform.handle)
    async with httpx.AsyncClient(transport=transport, base_url=BSKY) as client:
        bsky = BlueskyChannel(
            client, account=ACCOUNT, password=PASSWORD, clock=clock, store=store,
            rng=random.Random(1),
        )  # fmt: skip
        await preflight(bsky)
        await bsky.inbox(None)


async def test_a_restart_reuses_the_stored_session_and_logs_in_no_more(tmp_path: Path) -> None:
    clock = ManualClock(START)
    platform = face(tmp_path, clock)
    store = TokenStore(tmp_path / "state" / "tokens", "study-1")
    await one_run(platform, store, clock)
    assert platform.logins == 1
    first = store.load(STORE_KIND, ACCOUNT)
    assert first is not None and first["service"] == BSKY
    for _ in range(5):  # five restarts within the access JWT's two hours
        await one_run(platform, store, clock)
    assert platform.logins == 1
    clock.advance(3 * 3600)  # the access JWT has expired: the stored refresh JWT renews it
    await one_run(platform, store, clock)
    assert platform.logins == 1
    second = store.load(STORE_KIND, ACCOUNT)
    assert second is not None and second["refreshJwt"] != first["refreshJwt"]
    path = store.path(STORE_KIND, ACCOUNT)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD not in path.read_text(encoding="utf-8")


async def test_a_spent_refresh_jwt_costs_one_login(tmp_path: Path) -> None:
    # A run died between Bluesky's answer to refreshSession and the save: the stored refresh
    # JWT is spent. The next run refreshes, is refused, and logs in once.
    clock = ManualClock(START)
    platform = face(tmp_path, clock)
    store = TokenStore(tmp_path / "tokens", "study-1")
    await one_run(platform, store, clock)
    stored = store.load(STORE_KIND, ACCOUNT)
    assert stored is not None
    spent = call(platform, "com.atproto.server.refreshSession", body={}, token=stored["refreshJwt"])
    assert spent.status_code == 200
    clock.advance(3 * 3600)
    await one_run(platform, store, clock)
    assert platform.logins == 2
    await one_run(platform, store, clock)
    assert platform.logins == 2


async def test_a_session_from_another_service_is_not_reused(tmp_path: Path) -> None:
    clock = ManualClock(START)
    platform = face(tmp_path, clock)
    store = TokenStore(tmp_path / "tokens", "study-1")
    await one_run(platform, store, clock)
    stored = store.load(STORE_KIND, ACCOUNT)
    assert stored is not None
    store.save(STORE_KIND, ACCOUNT, {**stored, "service": "https://pds.example"})
    await one_run(platform, store, clock)
    assert platform.logins == 2


async def test_an_app_password_without_the_dm_privilege_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    clock = ManualClock(START)
    platform = face(tmp_path, clock, dm_access=False)
    transport = httpx.MockTransport(platform.handle)
    async with httpx.AsyncClient(transport=transport, base_url=BSKY) as client:
        bsky = BlueskyChannel(client, account=ACCOUNT, password=PASSWORD, clock=clock)
        with pytest.raises(AuthError) as e:
            await preflight(bsky)
    assert str(e.value) == (
        f"the app password of @{ACCOUNT} has no access to direct messages (Bluesky answered "
        "400 Bad Request (InvalidToken: Bad token method) to chat.bsky.convo.listConvos); "
        "create an app password with 'Allow access to your direct messages' ticked "
        "(Settings > Privacy and security > App passwords)"
    )
    assert platform.logins == 1  # no new session was tried: none would help


def test_the_face_refuses_chat_without_the_privilege_or_the_proxy_header(tmp_path: Path) -> None:
    clock = ManualClock(START)
    plain = face(tmp_path, clock, dm_access=False)
    body = {"identifier": ACCOUNT, "password": PASSWORD}
    token = call(plain, "com.atproto.server.createSession", body=body).json()["accessJwt"]
    refused = call(plain, "chat.bsky.convo.listConvos", token=token)
    assert (refused.status_code, refused.json()) == (
        400, {"error": "InvalidToken", "message": "Bad token method"}
    )  # fmt: skip
    privileged = face(tmp_path, clock)
    token = call(privileged, "com.atproto.server.createSession", body=body).json()["accessJwt"]
    assert call(privileged, "chat.bsky.convo.listConvos", token=token).status_code == 200
    unproxied = privileged.handle(
        httpx.Request(
            "GET", f"{BSKY}/xrpc/chat.bsky.convo.listConvos",
            headers={"Authorization": f"Bearer {token}"},
        )
    )  # fmt: skip
    unproxied.read()
    assert unproxied.status_code == 400
    assert unproxied.json()["message"] == "No service configured for chat.bsky.convo.listConvos"


def test_logins_are_limited_to_30_per_5_minutes_and_300_per_day(tmp_path: Path) -> None:
    clock = ManualClock(START)
    platform = face(tmp_path, clock)
    body = {"identifier": ACCOUNT, "password": PASSWORD}

    def login() -> int:
        return call(platform, "com.atproto.server.createSession", body=body).status_code

    assert [login() for _ in range(31)] == [200] * 30 + [429]
    for _ in range(9):  # 270 more, 30 in each 5 minutes: 300 in all
        clock.advance(timedelta(minutes=5, seconds=1).total_seconds())
        assert {login() for _ in range(30)} == {200}
    clock.advance(timedelta(minutes=5, seconds=1).total_seconds())
    refused = call(platform, "com.atproto.server.createSession", body=body)
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Policy"] == "300;w=86400"
    assert platform.logins == 300
