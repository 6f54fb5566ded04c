"""X credentials against the enforcing simulator: OAuth 1.0a signatures, app-only tokens
refused for posting, OAuth 2.0 pairs that expire every 2 hours and single-use refresh tokens
kept in the 0600 token store, and a crash inside a refresh."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from probes.channels.base import AuthError
from probes.channels.tokens import STATE_ENV, TokenStore, state_dir
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import SIM_CLIENT_ID, sim_auth
from probes.channels.x.oauth1 import OAuth1Auth, OAuth1Credentials
from probes.channels.x.oauth2 import (
    STORE_KIND,
    Client,
    TokenPair,
    XTokens,
    XTokensAuth,
    authorization_url,
    code_request,
    pkce,
    token_pair,
)
from probes.sim.x.auth import SIM_APP
from probes.sim.x.face import XPlatform
from study.clock import ManualClock
from study.model import PlannedProbe, Scope
from tests.probes.test_sim_platform import small_study

pytestmark = pytest.mark.anyio
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
REDIRECT = "http://127.0.0.1:8977/callback"


def enforcing(clock: ManualClock) -> XPlatform:
    return XPlatform(small_study(), clock, bots=False, auth=True)


def probe(n: int) -> PlannedProbe:
    text = f"@Acme_DE question number {n}?"
    return PlannedProbe(
        f"p{n}", "acme", "DE", "x", "Acme_DE", Scope.LOCAL, "s1", "morning", 1, text,
        START, START, START + timedelta(hours=1),
    )  # fmt: skip


async def test_a_wrong_signature_is_401_and_the_right_one_passes() -> None:
    clock = ManualClock(START)
    platform = enforcing(clock)
    wrong = OAuth1Credentials(
        SIM_APP.consumer_key, "not-the-secret", SIM_APP.access_token, SIM_APP.access_token_secret
    )
    transport = httpx.MockTransport(platform.handle)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.x.test") as c:
        refused = await c.get("/2/users/me", auth=OAuth1Auth(wrong, clock=clock))
        assert refused.status_code == 401
        assert (await c.get("/2/users/me", auth=sim_auth())).status_code == 200
        bearer = {"Authorization": "Bearer anything-at-all"}
        assert (await c.get("/2/users/me", headers=bearer)).status_code == 401


async def test_a_replayed_nonce_is_refused() -> None:
    platform = enforcing(ManualClock(START))
    signed = next(sim_auth().sync_auth_flow(httpx.Request("GET", "https://api.x.test/2/users/me")))
    assert platform.handle(signed).status_code == 200
    assert platform.handle(signed).status_code == 401


async def test_an_app_only_token_is_refused_at_preflight_naming_the_credential_to_use() -> None:
    clock = ManualClock(START)
    platform = enforcing(clock)
    headers = {"Authorization": f"Bearer {SIM_APP.app_bearer}"}
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle), base_url="https://api.x.test",
        headers=headers,
    ) as c:  # fmt: skip
        posted = await c.post("/2/tweets", json={"text": "@Acme_DE hello"})
        assert posted.status_code == 403
        assert posted.json()["title"] == "Unsupported Authentication"
        assert (await c.get("/2/users/by/username/Acme_DE")).status_code == 200  # app-only read
        x = XChannel(c, account="probe_acct", clock=clock)
        x.credential_var = "REPLYBENCH_X_TOKEN"
        with pytest.raises(AuthError) as e:
            await x.me()
    message = str(e.value)
    assert "app-only bearer token" in message and "REPLYBENCH_X_TOKEN" in message
    assert "consumer_key_env" in message and "replybench login x" in message
    assert SIM_APP.app_bearer not in message


def login(
    platform: XPlatform, store: TokenStore, clock: ManualClock, account: str = "probe_acct"
) -> TokenPair:
    """What `replybench login x` does, against the face: consent, code, exchange, store."""
    client = Client(SIM_CLIENT_ID)
    verifier, challenge = pkce()
    url = authorization_url(
        "https://api.x.test/i/oauth2/authorize", client, redirect_uri=REDIRECT, state="st4te",
        challenge=challenge,
    )  # fmt: skip
    consent = platform.handle(httpx.Request("GET", url))
    assert consent.status_code == 302
    back = parse_qs(urlsplit(consent.headers["location"]).query)
    assert back["state"] == ["st4te"]
    request = code_request(
        "https://api.x.test", client, code=back["code"][0], verifier=verifier, redirect_uri=REDIRECT
    )
    pair = token_pair(platform.handle(request), clock.now(), "code exchange")
    store.save(STORE_KIND, account, pair.to_json())
    return pair


async def test_a_code_is_refused_with_the_wrong_verifier_or_after_30_seconds(
    tmp_path: Path,
) -> None:
    clock = ManualClock(START)
    platform = enforcing(clock)
    client = Client(SIM_CLIENT_ID)
    for wait, use_right_verifier in ((0, False), (31, True)):
        verifier, challenge = pkce()
        url = authorization_url(
            "https://api.x.test/i/oauth2/authorize", client, redirect_uri=REDIRECT, state="s",
            challenge=challenge,
        )  # fmt: skip
        code = parse_qs(
            urlsplit(platform.handle(httpx.Request("GET", url)).headers["location"]).query
        )["code"][0]
        clock.advance(wait)
        request = code_request(
            "https://api.x.test", client, code=code,
            verifier=verifier if use_right_verifier else pkce()[0], redirect_uri=REDIRECT,
        )  # fmt: skip
        with pytest.raises(AuthError):
            token_pair(platform.handle(request), clock.now(), "code exchange")


async def test_a_campaign_outlives_several_two_hour_tokens(tmp_path: Path) -> None:
    # Posts every 50 minutes for 9 simulated hours: four access tokens; none is refused,
    # each post made once, every refresh token used once and then refused.
    clock = ManualClock(START)
    platform = enforcing(clock)
    store = TokenStore(tmp_path / "state" / "tokens", "study-1")
    first = login(platform, store, clock)
    tokens = XTokens(
        store, "probe_acct", Client(SIM_CLIENT_ID), api_base="https://api.x.test", clock=clock
    )
    seen_refresh: list[str] = [first.refresh]
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle), base_url="https://api.x.test",
        auth=XTokensAuth(tokens),
    ) as c:  # fmt: skip
        x = XChannel(c, account="probe_acct", clock=clock)
        sent = []
        for n in range(12):
            sent.append(await x.send(probe(n)))
            stored = TokenPair.from_json(store.load(STORE_KIND, "probe_acct") or {})
            assert stored is not None
            if stored.refresh != seen_refresh[-1]:
                seen_refresh.append(stored.refresh)
            clock.advance(50 * 60)
    assert len({s.message_id for s in sent}) == 12
    texts = [p.text for p in platform.world.posts.values()]
    assert sorted(texts) == sorted(probe(n).text for n in range(12))
    assert len(seen_refresh) >= 4  # a new pair before each 2-hour expiry over 9 h 10 min
    spent = seen_refresh[:-1]
    assert all(platform.auth is not None and platform.auth.refresh_tokens[r] for r in spent)
    path = store.path(STORE_KIND, "probe_acct")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


class Killed(BaseException):
    """Stands for kill -9 at an injection point."""


@pytest.mark.parametrize("point", ["refreshing", "saved"])
async def test_a_kill_inside_a_refresh_leaves_a_pair_the_next_run_goes_on_with(
    tmp_path: Path, point: str
) -> None:
    clock = ManualClock(START)
    platform = enforcing(clock)
    store = TokenStore(tmp_path / "tokens", "study-1")
    login(platform, store, clock)
    clock.advance(2 * 3600)  # the access token has expired: the next call refreshes

    def crash(at: str) -> None:
        if at == point:
            raise Killed(at)

    api = "https://api.x.test"
    dying = XTokens(
        store, "probe_acct", Client(SIM_CLIENT_ID), api_base=api, clock=clock, crash=crash
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle), base_url=api, auth=XTokensAuth(dying)
    ) as c:
        with pytest.raises(Killed):
            await XChannel(c, account="probe_acct", clock=clock).send(probe(1))
    assert platform.world.posts == {}  # nothing was posted by the dying run
    # The restarted runner reads the store afresh and goes on.
    again = XTokens(store, "probe_acct", Client(SIM_CLIENT_ID), api_base=api, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle), base_url=api, auth=XTokensAuth(again)
    ) as c:
        sent = await XChannel(c, account="probe_acct", clock=clock).send(probe(1))
    assert [p.text for p in platform.world.posts.values()] == [probe(1).text]
    assert sent.message_id


def test_the_store_lives_in_the_state_dir_and_its_files_are_private(tmp_path: Path) -> None:
    assert state_dir({STATE_ENV: str(tmp_path / "elsewhere")}) == tmp_path / "elsewhere"
    assert "replybench" in str(state_dir({}))
    study = tmp_path / "study"
    study.mkdir()
    store = TokenStore.for_study(study, {STATE_ENV: str(tmp_path / "state")})
    store.save("bluesky", "@Probe.bsky.social", {"refresh": "secret-refresh-jwt"})
    path = store.path("bluesky", "probe.bsky.social")
    assert path.is_file() and tmp_path / "state" in path.parents
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.load("bluesky", "probe.bsky.social") == {"refresh": "secret-refresh-jwt"}
    assert not list(study.iterdir())  # nothing in the study folder
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    other = TokenStore.for_study(
        tmp_path / "elsewhere" / "study", {STATE_ENV: str(tmp_path / "state")}
    )
    assert other.study != store.study  # same folder name, another study


def test_study_toml_names_four_oauth1_variables_and_a_partial_set_is_refused() -> None:
    from probes.channels.x.credentials import x_credential
    from study.errors import StudyError
    from study.load_channels import channel_settings

    keys = {
        "api_base": "https://api.x.com", "account": "probe_acct",
        "consumer_key_env": "CK", "consumer_secret_env": "CS",
        "access_token_env": "AT", "access_token_secret_env": "ATS",
    }  # fmt: skip
    settings = channel_settings("x", keys)
    env = {"CK": "key", "CS": "consumer-secret-1", "AT": "1-token", "ATS": "token-secret-1"}
    found = x_credential(settings, env, loopback=False)
    assert found.kind == "oauth1" and found.oauth1 is not None
    assert found.oauth1.consumer_secret == "consumer-secret-1"
    with pytest.raises(StudyError) as unset:
        x_credential(settings, {**env, "ATS": ""}, loopback=False)
    assert "environment variable ATS is not set" in str(unset.value)
    assert "consumer-secret-1" not in str(unset.value)
    partial = channel_settings("x", {k: v for k, v in keys.items() if k != "access_token_env"})
    with pytest.raises(StudyError, match="access_token_env is missing"):
        x_credential(partial, env, loopback=False)
    assert x_credential(settings, {}, loopback=True).kind == "sim"  # the simulator's own app
