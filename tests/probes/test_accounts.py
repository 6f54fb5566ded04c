"""Account checks: every target looked up on its channel, offline, on the simulator, and
against recorded and scripted platform answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from probes.accounts import (
    MISSING,
    NEEDS_LIVE,
    NO_LOCAL,
    NOT_CHECKED,
    OK,
    RENAMED,
    SUSPENDED,
    AccountFinding,
    bluesky_lookup,
    check_accounts,
    findings_table,
    mastodon_lookup,
    x_lookup,
)
from probes.channels.mastodon.adapter import MastodonChannel
from probes.channels.x.adapter import XChannel
from probes.sim import running
from replybench.cli import app
from study.clock import ManualClock
from study.errors import StudyError
from tests.e2e.studies import short_study, swap_x_credential
from tests.e2e.test_campaign import with_manual_targets
from tests.probes.cassette import SECRET_TOKEN, Replay, client_for
from tests.probes.test_bluesky import BSKYR, Fake, channel, err, ok
from tests.probes.x_fakes import START, X, cassette
from tests.study.test_load_channels import REMOTE_CHANNELS as CHANNELS

pytestmark = pytest.mark.anyio

TARGETS = """\
acorn,Acorn Co,retail,US,mastodon,acorn@mastodon.social,local
birch,Birch Co,retail,US,mastodon,birch@social.example,global
acorn,Acorn Co,retail,US,bluesky,acorn.bsky.social,local
birch,Birch Co,retail,DE,bluesky,,none
acorn,Acorn Co,retail,DE,email,support@acorn.example,local
"""
# Accounts the simulator has never heard of: it was started before they were added.
GHOSTS = """\
cedar,Cedar Co,retail,US,x,Ghost_US,local
cedar,Cedar Co,retail,DE,x,Cedar_Global,global
cedar,Cedar Co,retail,US,mastodon,ghost@mastodon.social,global
cedar,Cedar Co,retail,US,bluesky,ghost.bsky.social,local
"""


def every_channel(path: Path) -> Path:
    """Two brands on X in US and DE, plus manual, Mastodon, Bluesky and e-mail targets."""
    bearer = swap_x_credential(short_study(path, brands=2))  # a bearer token
    d = with_manual_targets(bearer, brands=1)
    toml = d / "study.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("\n[countries.", CHANNELS + "\n[countries.", 1), "utf-8")
    with (d / "targets.csv").open("a", encoding="utf-8") as f:
        f.write(TARGETS)
    return d


def by_target(findings: list[AccountFinding]) -> dict[tuple[str, str, str], tuple[str, str]]:
    return {(f.brand, f.country, f.channel): (f.status, f.detail) for f in findings}


# -- offline --------------------------------------------------------------------------------


async def test_offline_only_syntax_is_checked_and_the_rest_needs_live(tmp_path: Path) -> None:
    d = every_channel(tmp_path / "s")
    findings = await check_accounts(d, env={})
    assert [f.line for f in findings] == list(range(2, 12))  # targets.csv order
    found = by_target(findings)
    assert found[("acorn", "US", "x")] == (NOT_CHECKED, NEEDS_LIVE)
    assert found[("acorn", "US", "mastodon")] == (NOT_CHECKED, NEEDS_LIVE)
    assert found[("acorn", "US", "bluesky")] == (NOT_CHECKED, NEEDS_LIVE)
    assert found[("acorn", "DE", "email")] == (
        OK,
        "address syntax ok; nothing was sent (only a reply proves a mailbox)",
    )
    assert found[("acorn", "US", "manual")][0] == NOT_CHECKED
    assert found[("birch", "DE", "bluesky")][0] == "none"
    assert not any(f.blocking for f in findings)


# -- on the simulator -----------------------------------------------------------------------


async def test_the_simulator_knows_the_targets_and_not_the_ghosts(tmp_path: Path) -> None:
    d = every_channel(tmp_path / "s")
    with running(d) as sim:
        with (d / "targets.csv").open("a", encoding="utf-8") as f:
            f.write(GHOSTS)
        findings = await check_accounts(d, env={}, api_base=sim.url)
    found = by_target(findings)
    for key in [("acorn", "US", "x"), ("birch", "DE", "x"), ("acorn", "US", "mastodon"),
                ("acorn", "US", "bluesky")]:  # fmt: skip
        assert found[key][0] == OK, (key, found[key])
    assert found[("acorn", "US", "bluesky")][1].startswith("@acorn.bsky.social, did:plc:")
    assert found[("birch", "US", "mastodon")] == (
        OK,
        found[("birch", "US", "mastodon")][1].split(" (")[0]
        + " (the brand's global account: no local one)",
    )
    assert found[("cedar", "US", "x")] == (
        MISSING,
        f"X at {sim.url} has no user @Ghost_US (Could not find user with username: "
        f"[Ghost_US]); {NO_LOCAL}",
    )
    # A global account that is missing is missing, but asking for a global one is no advice.
    status, detail = found[("cedar", "DE", "x")]
    assert status == MISSING and NO_LOCAL not in detail
    assert found[("cedar", "US", "mastodon")][0] == MISSING
    assert found[("cedar", "US", "bluesky")] == (
        MISSING,
        f"Bluesky: @ghost.bsky.social (InvalidRequest: Unable to resolve handle); {NO_LOCAL}",
    )
    assert sorted(f.channel for f in findings if f.blocking) == ["bluesky", "mastodon", "x", "x"]


async def test_a_missing_credential_or_a_refused_token_stops_the_check(tmp_path: Path) -> None:
    d = every_channel(tmp_path / "s")
    with pytest.raises(StudyError) as e:
        await check_accounts(d, env={}, live=True)
    assert str(e.value).startswith(
        "study.toml [channels.x]: environment variable REPLYBENCH_X_TOKEN is not set"
    )
    with running(d) as sim:
        sim.platform.token = "the-right-one"
        with pytest.raises(StudyError) as e:
            await check_accounts(d, env={"REPLYBENCH_X_TOKEN": SECRET_TOKEN}, api_base=sim.url)
    assert str(e.value).startswith("x: X API answered 401 Unauthorized")
    assert SECRET_TOKEN not in str(e.value)


def test_the_command_prints_a_table_or_json_and_exits_1_for_missing_accounts(
    tmp_path: Path,
) -> None:
    d = every_channel(tmp_path / "s")
    cli = CliRunner()
    result = cli.invoke(app, ["accounts", str(d)], env={"REPLYBENCH_X_TOKEN": ""})
    assert result.exit_code == 0, result.stderr
    assert "Target accounts" in result.stdout and "not checked" in result.stdout
    assert result.stdout.splitlines()[-1] == "10 targets: 1 none, 8 not checked, 1 ok"
    with running(d) as sim:
        with (d / "targets.csv").open("a", encoding="utf-8") as f:
            f.write("cedar,Cedar Co,retail,US,x,Ghost_US,local\n")
        result = cli.invoke(app, ["accounts", str(d), "--api-base", sim.url, "--json"], env={})
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [r["handle"] for r in rows if r["blocking"]] == ["Ghost_US"]
    assert set(rows[0]) == {"brand", "country", "channel", "handle", "scope", "status",
                            "detail", "line", "blocking"}  # fmt: skip
    warning, error = result.stderr.strip().splitlines()
    assert error == (
        "Error: 1 target account(s) missing, suspended or not looked up: cedar US x "
        "'Ghost_US'; fix targets.csv (see the details above)"
    )
    # A fresh Mastodon 4.3 account filters limited accounts: read anyway, but said.
    assert warning.startswith(f"mastodon at {sim.url}: warning: the Mastodon notification ")


def test_the_table_escapes_what_came_from_outside() -> None:
    from rich.console import Console

    finding = AccountFinding("b", "US", "x", "[red]x[/red]", "local", MISSING, "[bold]d", 2)
    console = Console(width=200, record=True)
    console.print(findings_table([finding]))
    text = console.export_text()
    assert "[red]x[/red]" in text and "[bold]d" in text


# -- what each platform says about accounts that are gone -----------------------------------


def suspended_user() -> dict[str, Any]:
    """The error X gave twarc for a suspended user (tests/fixtures/x/twarc/noflat.jsonl)."""
    for line in (X / "twarc" / "noflat.jsonl").read_text(encoding="utf-8").splitlines():
        for error in json.loads(line).get("errors", []):
            if "suspended" in error.get("detail", ""):
                return {"errors": [error]}
    raise AssertionError("no suspended user in the recording")


async def test_x_reads_the_recorded_user_and_a_suspended_one() -> None:
    clock = ManualClock(START)
    async with Replay(cassette("test_client_get_user.yaml")).client() as client:
        lookup = x_lookup(XChannel(client, account="TweepyDev", clock=clock), "X")
        status, detail = await lookup("Twitter")
    assert (status, detail) == (OK, "@Twitter, user id 783214")

    def suspended(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=suspended_user())

    async with client_for(suspended) as client:
        channel = XChannel(client, account="TweepyDev", clock=clock)
        user, reason = await channel.lookup_account("gatewaypundit")
        status, detail = await x_lookup(channel, "X")("gatewaypundit")
    assert user is None and reason == "User has been suspended: [gatewaypundit]"
    assert (status, detail) == (SUSPENDED, f"X: {reason}")


def mastodon_answer(
    body: dict[str, Any] | None, resolved: dict[str, Any] | None = None
) -> httpx.AsyncClient:
    """accounts/lookup answers `body` (None: 404); search answers `resolved` (None: none)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/search":
            params = request.url.params
            assert (params["q"], params["type"], params["resolve"]) == (
                "@kaito@kaito.example",
                "accounts",
                "true",
            )
            found = [] if resolved is None else [{"id": "7", "acct": "kaito@kaito.example",
                                                  **resolved}]  # fmt: skip
            stranger = {"id": "8", "acct": "kaito_fan@kaito.example"}
            return httpx.Response(200, json={"accounts": [stranger, *found], "statuses": []})
        assert request.url.path == "/api/v1/accounts/lookup"
        if body is None:
            return httpx.Response(404, json={"error": "Record not found"})
        return httpx.Response(200, json={"id": "1", "acct": request.url.params["acct"], **body})

    return client_for(handler, "https://mastodon.social")


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({}, OK, "@kaito@kaito.example, account id 1"),
        ({"suspended": True}, SUSPENDED, "kaito@kaito.example is suspended on M"),
        ({"moved": {"id": "2", "acct": "kaito@new.example"}}, RENAMED,
         "moved to @kaito@new.example; put the new handle in targets.csv"),
        (None, MISSING, "M knows no account kaito@kaito.example (accounts/lookup: 404; an "
         "account on another instance is also looked for by WebFinger, search with "
         "resolve=true)"),
    ],
)  # fmt: skip
async def test_mastodon_moved_suspended_and_missing_accounts(
    body: dict[str, Any] | None, status: str, detail: str
) -> None:
    clock = ManualClock(START)
    async with mastodon_answer(body) as client:
        channel = MastodonChannel(
            client, account="replybench", instance="mastodon.social", clock=clock
        )
        assert await mastodon_lookup(channel, "M")("kaito@kaito.example") == (status, detail)


def profile(handle: str, **more: Any) -> dict[str, Any]:
    return {"did": BSKYR, "handle": handle, "displayName": "bskyr", **more}


@pytest.mark.parametrize(
    ("resolved", "answer", "status", "detail"),
    [
        (True, ok(profile("bskyr.bsky.social")), OK, f"@bskyr.bsky.social, {BSKYR}"),
        (True, ok(profile("bskyr.example")), RENAMED,
         f"{BSKYR} is now @bskyr.example; put the new handle in targets.csv"),
        (True, ok(profile("handle.invalid")), RENAMED,
         f"{BSKYR}: its handle no longer verifies (handle.invalid); find the brand's current "
         "handle and put it in targets.csv"),
        (True, err(400, "AccountTakedown", "Account has been suspended"), SUSPENDED,
         "Bluesky: @bskyr.bsky.social: AccountTakedown: Account has been suspended"),
        (False, None, MISSING,
         "Bluesky: @bskyr.bsky.social (InvalidRequest: Unable to resolve handle)"),
    ],
)  # fmt: skip
async def test_bluesky_renamed_taken_down_and_missing_accounts(
    resolved: bool, answer: Any, status: str, detail: str
) -> None:
    clock = ManualClock(START)
    resolve = (
        ok({"did": BSKYR}) if resolved else err(400, "InvalidRequest", "Unable to resolve handle")
    )
    script = {"com.atproto.identity.resolveHandle": [resolve]}
    if answer is not None:
        script["app.bsky.actor.getProfile"] = [answer]
    async with Fake(clock, script).client() as client:
        lookup = bluesky_lookup(channel(client, clock), "B")
        assert await lookup("bskyr.bsky.social") == (status, detail)


@pytest.mark.parametrize(
    ("resolved", "status", "detail"),
    [
        ({}, OK, "@kaito@kaito.example, account id 7"),
        ({"suspended": True}, SUSPENDED, "kaito@kaito.example is suspended on M"),
    ],
)
async def test_a_mastodon_account_the_instance_has_not_seen_is_resolved_by_webfinger(
    resolved: dict[str, Any], status: str, detail: str
) -> None:
    clock = ManualClock(START)
    async with mastodon_answer(None, resolved) as client:
        channel = MastodonChannel(
            client, account="replybench", instance="mastodon.social", clock=clock
        )
        assert await mastodon_lookup(channel, "M")("kaito@kaito.example") == (status, detail)


async def test_a_local_mastodon_account_is_not_searched_for() -> None:
    clock = ManualClock(START)
    async with mastodon_answer(None, {}) as client:
        channel = MastodonChannel(
            client, account="replybench", instance="kaito.example", clock=clock
        )
        assert await channel.lookup("kaito@kaito.example") is None
