"""The OAuth 2.0 login's core against the simulator's X face in-process: the consent page's
redirect reaches the loopback callback, the code is exchanged on the injected clock, and a
code brought back after X's 30 seconds is refused with what to do."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from probes.channels.x.credentials import SIM_CLIENT_ID
from probes.channels.x.oauth2 import Client, TokenPair
from probes.login import authorise
from probes.sim.x.face import XPlatform
from study.clock import ManualClock
from study.errors import StudyError
from tests.probes.test_sim_platform import small_study

pytestmark = pytest.mark.anyio
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
API = "https://api.x.test"


def browser(platform: XPlatform, clock: ManualClock, *, dawdle: float = 0) -> Callable[[str], None]:
    """A browser in which the person approves: the consent page's 302 is followed to the
    loopback callback, `dawdle` seconds of X's time later."""

    async def visit(url: str) -> None:
        consent = platform.handle(httpx.Request("GET", url))
        assert consent.status_code == 302
        clock.advance(dawdle)
        async with httpx.AsyncClient() as real:
            await real.get(consent.headers["location"])

    def open_browser(url: str) -> None:
        asyncio.get_running_loop().create_task(visit(url))

    return open_browser


async def login(platform: XPlatform, clock: ManualClock, *, dawdle: float = 0) -> TokenPair:
    said: list[str] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(platform.handle)) as client:
        pair = await authorise(
            client, Client(SIM_CLIENT_ID), api_base=API, authorize=f"{API}/i/oauth2/authorize",
            clock=clock, open_browser=browser(platform, clock, dawdle=dawdle), say=said.append,
            wait_seconds=30,
        )  # fmt: skip
    assert said and f"{API}/i/oauth2/authorize?" in said[0]
    return pair


async def test_the_code_is_exchanged_at_once_and_the_pair_expires_on_the_injected_clock() -> None:
    clock = ManualClock(START)
    platform = XPlatform(small_study(), clock, bots=False, auth=True)
    pair = await login(platform, clock, dawdle=29)
    assert pair.expires_at == START + timedelta(seconds=29) + timedelta(hours=2)
    assert platform.auth is not None and pair.access in platform.auth.bearers


async def test_a_code_brought_back_after_30_seconds_is_refused_with_what_to_do() -> None:
    clock = ManualClock(START)
    platform = XPlatform(small_study(), clock, bots=False, auth=True)
    with pytest.raises(StudyError) as e:
        await login(platform, clock, dawdle=31)
    assert str(e.value) == (
        "X refused the authorisation code (400 invalid_request); the code is valid for 30 s "
        "and once: run `replybench login x` again"
    )
