"""`replybench login x STUDY` end to end: the command in its own process, the simulator's
consent page redirecting the "browser" straight to the loopback callback, the code exchanged
at once, and the pair in the 0600 token store, good for the runner."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from probes.channels.tokens import STATE_ENV, TokenStore
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import SIM_CLIENT_ID
from probes.channels.x.oauth2 import STORE_KIND, Client, TokenPair, XTokens, XTokensAuth
from probes.sim.server import running
from tests.e2e.studies import short_study, swap_x_credential

CLI = [sys.executable, "-m", "replybench"]


def oauth2_study(path: Path) -> Path:
    """A short study whose X channel names an OAuth 2.0 client instead of OAuth 1.0a keys."""
    return swap_x_credential(short_study(path), 'client_id_env = "REPLYBENCH_X_CLIENT_ID"')


def login_x(study: Path, api_base: str, env: dict[str, str]) -> None:
    """`replybench login x` as a person would run it, the simulator's consent page standing
    for the browser."""
    done = subprocess.Popen(
        [*CLI, "login", "x", str(study), "--api-base", api_base, "--no-browser"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert done.stdout is not None
        url = ""
        while not url.startswith("http"):
            line = done.stdout.readline()
            assert line, done.stderr.read() if done.stderr else "no output"
            url = line.strip()
        assert httpx.get(url, follow_redirects=True, timeout=10).status_code == 200
        _, errors = done.communicate(timeout=60)
    finally:
        done.kill()
        done.wait()
    assert done.returncode == 0, errors


def test_login_x_stores_a_pair_the_runner_can_use(tmp_path: Path) -> None:
    study = oauth2_study(tmp_path / "study")
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLYBENCH_")}
    env[STATE_ENV] = str(state)
    with running(study, speed=60) as sim:
        login = subprocess.Popen(
            [*CLI, "login", "x", str(study), "--api-base", sim.url, "--no-browser"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert login.stdout is not None
            url = ""
            while not url.startswith("http"):
                line = login.stdout.readline()
                assert line, login.stderr.read() if login.stderr else "no output"
                url = line.strip()
            assert url.startswith(f"{sim.url}/i/oauth2/authorize?")
            # Someone else's redirect (wrong state) reaches the callback first: refused.
            redirect = httpx.URL(url).params["redirect_uri"]
            assert redirect.startswith("http://127.0.0.1:") and redirect.endswith("/callback")
            stray = httpx.get(redirect, params={"state": "not-ours", "code": "planted"})
            assert stray.status_code == 400
            # The browser: the consent page approves and redirects to the callback.
            page = httpx.get(url, follow_redirects=True, timeout=10)
            assert page.status_code == 200 and "has the authorisation" in page.text
            out, errors = login.communicate(timeout=60)
        finally:
            login.kill()
            login.wait()
        assert login.returncode == 0, errors
        assert "stored the X OAuth 2.0 token of @replybenchprobe" in out
        store = TokenStore.for_study(study, env)
        path = store.path(STORE_KIND, "replybenchprobe")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        pair = TokenPair.from_json(store.load(STORE_KIND, "replybenchprobe") or {})
        assert pair is not None
        assert pair.access not in out + errors and pair.refresh not in out + errors
        assert not list(study.rglob("*x-oauth2*"))  # nothing in the study folder
        # The runner's way of using it: the simulator takes the stored access token.
        clock = sim.clock
        tokens = XTokens(store, "replybenchprobe", Client(SIM_CLIENT_ID), api_base=sim.url,
                         clock=clock)  # fmt: skip

        async def me() -> str:
            async with httpx.AsyncClient(base_url=sim.url, auth=XTokensAuth(tokens)) as c:
                return await XChannel(c, account="replybenchprobe", clock=clock).me()

        assert asyncio.run(me())


def test_login_x_without_an_oauth2_client_says_what_to_add(tmp_path: Path) -> None:
    study = short_study(tmp_path / "study")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLYBENCH_")}
    env[STATE_ENV] = str(tmp_path / "state")
    done = subprocess.run(
        [*CLI, "login", "x", str(study), "--api-base", "http://127.0.0.1:9", "--no-browser"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: study.toml [channels.x] names no OAuth 2.0 client: add client_id_env (and "
        "client_secret_env for a confidential client) naming the variables that hold the X "
        "app's client id and secret (docs/going-live.md); OAuth 1.0a needs no login"
    ]


@pytest.mark.parametrize("where", ["https://api.x.com"])
def test_login_x_refuses_the_real_x_without_live(tmp_path: Path, where: str) -> None:
    study = oauth2_study(tmp_path / "study")
    done = subprocess.run(
        [*CLI, "login", "x", str(study), "--api-base", where, "--no-browser"],
        env={**os.environ, STATE_ENV: str(tmp_path / "state")},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "refusing to send to https://api.x.com without --live" in done.stderr
