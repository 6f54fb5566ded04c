"""Each persona's account on its own: a missing credential names the persona's table,
`accounts` checks every persona's credentials, and `cleanup` deletes each persona's posts
with that persona's own account."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from probes.accounts import check_accounts
from probes.campaign import run_campaign
from probes.channels.registry import check_channels
from probes.cleanup import cleanup
from probes.runner import RunnerConfig
from study.errors import StudyError
from study.load import load_study
from study.paths import ledger_path
from study.plan import make_plan
from tests.e2e.multichannel import SharedClock, serve_on
from tests.e2e.studies import team_study
from tests.test_cli import invoke

pytestmark = pytest.mark.anyio
ACCOUNTS = {"anna": "anna_probe", "ben": "ben_probe", "cleo": "cleo_probe"}


def test_a_missing_persona_credential_names_the_personas_table(tmp_path: Path) -> None:
    study = load_study(team_study(tmp_path / "team"))
    with pytest.raises(StudyError) as e:
        check_channels(study, env={}, api_base="https://api.x.com", live=True)
    assert str(e.value) == (
        "study.toml [personas.anna]: environment variable ANNA_X_TOKEN is not set; export the "
        "probe account's token in it (credentials never go in the study folder)"
    )
    with pytest.raises(StudyError, match=r"^study.toml \[personas.cleo\]: environment variable"):
        check_channels(
            study,
            env={"ANNA_X_TOKEN": "a", "BEN_X_TOKEN": "b"},
            api_base="https://api.x.com",
            live=True,
        )


def test_a_refused_persona_token_at_run_names_the_personas_table(tmp_path: Path) -> None:
    d = team_study(tmp_path / "team")
    clock = SharedClock(min(p.slot_start_at for p in make_plan(load_study(d))))
    sim = serve_on(d, clock)
    try:
        code, _, err = invoke(
            "run", str(d), "--api-base", sim.url, "--persona", "ben",
            env={"BEN_X_TOKEN": "not-a-token-the-simulator-issued"},
        )  # fmt: skip
    finally:
        sim.stop()
    assert code == 1
    assert (
        err.strip()
        .splitlines()[-1]
        .endswith(
            "check the token in BEN_X_TOKEN and the account 'ben_probe' in study.toml "
            "[personas.ben]"
        )
    )


async def test_accounts_checks_every_personas_credentials(tmp_path: Path) -> None:
    d = team_study(tmp_path / "team")
    clock = SharedClock(min(p.slot_start_at for p in make_plan(load_study(d))))
    sim = serve_on(d, clock)
    try:
        findings = await check_accounts(d, env={}, api_base=sim.url, clock=clock)
        assert {f.status for f in findings} == {"ok"}  # every persona signs in as itself
        with pytest.raises(StudyError) as e:
            await check_accounts(
                d, env={"CLEO_X_TOKEN": "not-issued"}, api_base=sim.url, clock=clock
            )
    finally:
        sim.stop()
    assert str(e.value).startswith("x: X API answered 401 Unauthorized")
    assert str(e.value).endswith("check the credentials named in study.toml [personas.cleo]")
    assert "not-issued" not in str(e.value)


async def test_cleanup_deletes_each_personas_posts_with_its_own_account(tmp_path: Path) -> None:
    d = team_study(tmp_path / "team")
    clock = SharedClock(min(p.slot_start_at for p in make_plan(load_study(d))) - timedelta(hours=1))
    sim = serve_on(d, clock)
    try:
        config = RunnerConfig(reconcile_after_real_s=0)
        summary = await run_campaign(d, api_base=sim.url, env={}, clock=clock, config=config)
        assert summary.counts == {"closed": 16}
        done = await cleanup(d, env={}, api_base=sim.url, clock=clock)
    finally:
        sim.stop()
    assert (done.deleted, done.failed) == (16, ())
    entries = [json.loads(x) for x in ledger_path(d).read_text("utf-8").splitlines()]
    deleted = [e for e in entries if e["kind"] == "deleted"]
    posted = {e["id"]: e["author"] for e in entries if e["kind"] == "post" and e["role"] == "probe"}
    assert {e["id"]: e["author"] for e in deleted} == posted
    assert set(posted.values()) == set(ACCOUNTS.values())
