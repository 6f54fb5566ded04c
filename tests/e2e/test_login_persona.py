"""`replybench login x STUDY --persona NAME`: the OAuth 2.0 pair of a persona's own account,
kept in the token store under that account, issued by the simulator for that account (so
the runner's check that the token belongs to the persona passes), beside the pair of
`[channels.x]`'s account. The simulator is served over HTTP on the test's clock."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from probes.channels.tokens import STATE_ENV, TokenStore
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import SIM_CLIENT_ID
from probes.channels.x.oauth2 import STORE_KIND, Client, XTokens, XTokensAuth
from probes.login import login_x
from study.errors import UsageError
from study.load import load_study
from study.plan import make_plan
from tests.e2e.multichannel import SharedClock, serve_on
from tests.e2e.studies import (
    TEAM,
    VARIANTS,
    add_personas,
    add_wordings,
    short_study,
    swap_x_credential,
)

pytestmark = pytest.mark.anyio


def browser(url: str) -> None:
    """The person approving on the consent page, in another thread (the callback is served
    by the login's own event loop)."""
    threading.Thread(target=httpx.get, args=(url,), kwargs={"follow_redirects": True}).start()


async def test_login_x_for_a_persona_stores_a_pair_of_its_own_account(tmp_path: Path) -> None:
    # The personas inherit the channel's OAuth 2.0 client and log in: no token_env of their own.
    team = {n: {k: v for k, v in keys.items() if k != "token_env"} for n, keys in TEAM.items()}
    d = swap_x_credential(short_study(tmp_path / "team"), 'client_id_env = "X_CLIENT_ID"')
    add_wordings(add_personas(d, team), VARIANTS)
    env = {STATE_ENV: str(tmp_path / "state")}
    clock = SharedClock(min(p.slot_start_at for p in make_plan(load_study(d))))
    sim = serve_on(d, clock)
    try:
        for persona in ("ben", None):
            done = await login_x(
                d, env=env, api_base=sim.url, live=False, open_browser=browser,
                say=lambda line: None, clock=clock, persona=persona,
            )  # fmt: skip
            assert done.account == ("ben_probe" if persona else "replybenchprobe")
        with pytest.raises(UsageError, match="--persona nobody: the study has no such persona"):
            await login_x(
                d, env=env, api_base=sim.url, live=False, open_browser=browser,
                say=lambda line: None, clock=clock, persona="nobody",
            )  # fmt: skip
        store = TokenStore.for_study(d, env)
        clock.advance(timedelta(hours=3).total_seconds())  # both access tokens expired
        for account in ("ben_probe", "replybenchprobe"):
            assert store.load(STORE_KIND, account) is not None
            tokens = XTokens(store, account, Client(SIM_CLIENT_ID), api_base=sim.url, clock=clock)
            async with httpx.AsyncClient(base_url=sim.url, auth=XTokensAuth(tokens)) as c:
                # The token (and the one refreshed from it) is the account's own: the
                # channel's check that it belongs to the account passes.
                assert await XChannel(c, account=account, clock=clock).me()
    finally:
        sim.stop()
