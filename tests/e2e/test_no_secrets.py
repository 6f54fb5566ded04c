"""No secret in anything replybench writes (issue 11): the multichannel example run end to
end on the enforcing simulator with credentials of its own (X's four OAuth 1.0a values, a
Mastodon access token, a Bluesky app password), then looked at, exported and published;
none of the credentials is in any file of the study folder, in a log record, in an event
line or in a command's output, and the token store holding the Bluesky session is outside
the folder, its files 0600."""

from __future__ import annotations

import logging
import shutil
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from probes.campaign import run_campaign
from probes.channels.tokens import STATE_ENV
from probes.runner import RunnerConfig
from probes.sim.bluesky.face import BlueskyPlatform
from probes.sim.mastodon.face import MastodonPlatform
from replybench.cli import app
from study.load import load_study
from study.plan import make_plan
from tests.e2e.multichannel import EXAMPLE, SharedClock, serve_on

pytestmark = pytest.mark.anyio

SECRETS = {
    "REPLYBENCH_X_CONSUMER_KEY": "ck-Zq81vR3mXw5Tn0Lp",
    "REPLYBENCH_X_CONSUMER_SECRET": "cs-Hh4Jk7Lm2Nb9Vc6Xz1Qw3Er5Ty8Ui0",
    "REPLYBENCH_X_ACCESS_TOKEN": "12345-at-Pp0Oo9Ii8Uu7Yy6Tt5Rr4",
    "REPLYBENCH_X_ACCESS_TOKEN_SECRET": "ats-Gg3Ff2Dd1Ss0Aa9Mm8Nn7Bb6",
    "REPLYBENCH_MASTODON_TOKEN": "mt-Kk5Jj4Hh3Gg2Ff1Dd0Ss9Aa8",
    "REPLYBENCH_BLUESKY_PASSWORD": "abcd-efgh-ijkl-mnop",
}


@pytest.mark.slow
async def test_no_credential_reaches_the_study_folder_logs_or_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    d = tmp_path / "multichannel"
    shutil.copytree(EXAMPLE, d)
    state = tmp_path / "state"
    env = {**SECRETS, STATE_ENV: str(state)}
    plan = make_plan(load_study(d))
    clock = SharedClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    sim = serve_on(d, clock)
    # The simulator accepts these credentials and no others (X: the signature is checked).
    x = sim.platform
    assert x is not None and x.auth is not None
    x.auth.consumers = {
        SECRETS["REPLYBENCH_X_CONSUMER_KEY"]: SECRETS["REPLYBENCH_X_CONSUMER_SECRET"]
    }
    x.auth.user_tokens = {
        SECRETS["REPLYBENCH_X_ACCESS_TOKEN"]: SECRETS["REPLYBENCH_X_ACCESS_TOKEN_SECRET"]
    }
    for face in sim.routes.faces.values():
        if isinstance(face, MastodonPlatform):
            face.token = SECRETS["REPLYBENCH_MASTODON_TOKEN"]
        elif isinstance(face, BlueskyPlatform):
            face.password = SECRETS["REPLYBENCH_BLUESKY_PASSWORD"]
    said: list[str] = []
    caplog.set_level(logging.DEBUG)
    try:
        summary = await run_campaign(
            d, api_base=sim.url, env=env, clock=clock,
            config=RunnerConfig(poll_min_s=120, poll_max_s=1800, reconcile_after_real_s=0),
            on_event=lambda at, text: said.append(text), say=said.append,
        )  # fmt: skip
    finally:
        sim.stop()
    assert summary.counts == {"closed": 92, "planned": 34}  # every credential was accepted
    cli = CliRunner()
    for args in (
        ["status", str(d)],
        ["export", str(d), "probes", "--format", "csv", "--out", str(d / "probes.csv")],
        ["export", str(d), "replies", "--format", "csv", "--out", str(d / "replies.csv")],
        ["analyze", str(d), "--json", str(d / "metrics.json")],
        ["report", str(d), "--out", str(d / "site")],
    ):
        result = cli.invoke(app, args, env=env)
        assert result.exit_code == 0, (args, result.stderr)
        said += [result.stdout, result.stderr]
    written = {p: p.read_bytes() for p in d.rglob("*") if p.is_file()}
    assert (d / "journal" / "journal.sqlite") in written and (d / "site" / "index.html") in written
    text = "\n".join([*said, caplog.text])
    for name, secret in SECRETS.items():
        assert secret not in text, name
        assert not [p for p, data in written.items() if secret.encode() in data], name
    # The Bluesky session the runner kept: in the token store, outside the folder, private.
    stored = [p for p in state.rglob("*") if p.is_file()]
    assert any("bluesky" in p.name for p in stored), stored
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in stored)
    assert not any(d in p.parents for p in stored)
