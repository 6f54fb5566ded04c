"""A campaign on X with OAuth 2.0 user context outlives many two-hour access tokens: the
runner, on the enforcing simulator over HTTP, refreshes before each expiry with the
single-use refresh token it stored, and no probe is lost, sent twice or refused (issue 11;
the crash drill kills it inside a refresh: tests/e2e/test_crash_drill.py)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from probes.audit import audit
from probes.campaign import run_campaign
from probes.channels.tokens import STATE_ENV, TokenStore
from probes.channels.x.oauth2 import STORE_KIND, TokenPair
from probes.runner import RunnerConfig
from study.load import load_study
from study.plan import make_plan
from tests.e2e.multichannel import SharedClock, serve_on
from tests.e2e.studies import counting
from tests.e2e.test_login import oauth2_study
from tests.probes.test_x_auth import login

pytestmark = pytest.mark.anyio


async def test_a_runner_campaign_outlives_several_two_hour_tokens(tmp_path: Path) -> None:
    d = oauth2_study(tmp_path / "study")
    env = {STATE_ENV: str(tmp_path / "state")}
    study = load_study(d)
    plan = make_plan(study)
    clock = SharedClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    sim = serve_on(d, clock)
    x = sim.platform
    assert x is not None and x.auth is not None
    store = TokenStore.for_study(d, env)
    first = login(x, store, clock, account="replybenchprobe")
    statuses: Counter[int] = Counter()
    sim.routes.handle = counting(sim.routes.handle, statuses)  # type: ignore[method-assign]
    try:
        summary = await run_campaign(
            d, api_base=sim.url, env=env, clock=clock,
            config=RunnerConfig(reconcile_after_real_s=0),
        )  # fmt: skip
    finally:
        sim.stop()
    hours = (clock.now() - first.expires_at).total_seconds() / 3600 + 2
    assert hours > 8  # the campaign lasted four tokens' lives at least
    assert summary.counts == {"closed": len(plan)}  # none lost, none refused
    report = audit(study, d)
    assert report.ok, report.problems[:5]  # none sent twice
    assert sum(r.ledger_posts for r in report.rows) == len(plan)
    assert statuses[401] == statuses[403] == statuses[429] == 0
    spent = [r for r, used in x.auth.refresh_tokens.items() if used]
    assert len(spent) >= 4 and first.refresh in spent  # each refresh token used once
    stored = TokenPair.from_json(store.load(STORE_KIND, "replybenchprobe") or {})
    assert stored is not None and not x.auth.refresh_tokens[stored.refresh]  # still good
