"""The runner paces itself to the platforms' limits (study/platforms.toml): on the enforcing
simulator it never meets a 429, even on a plan that crowds X's 15-minute posting limit (the
example studies' end-to-end tests check the same: tests/e2e/test_campaign.py,
tests/e2e/test_multichannel.py)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from probes.campaign import run_campaign
from probes.runner import RunnerConfig
from study.load import load_study
from study.plan import make_plan
from tests.e2e.multichannel import SharedClock, serve_on
from tests.e2e.studies import counting, short_study

pytestmark = pytest.mark.anyio


async def test_a_plan_over_x_posting_limit_is_paced_not_refused(tmp_path: Path) -> None:
    """110 brands in one 20-minute slot, the runner started 15 minutes into it, over HTTP
    (its sends run concurrently): 100 go at once, the other 10 wait for the oldest to leave
    X's 15-minute window, past the slot's end (caught up or missed), and not one request
    meets a 429."""
    d = short_study(tmp_path / "crowded", brands=1)
    toml = (d / "study.toml").read_text(encoding="utf-8")
    toml = toml.replace('start = "09:00"\nend = "17:00"', 'start = "09:00"\nend = "09:20"')
    (d / "study.toml").write_text(toml, encoding="utf-8")
    targets = ["brand,brand_name,sector,country,channel,handle,scope"]
    targets += [f"b{n},B{n} Co,retail,US,x,B{n}_US,local" for n in range(110)]
    (d / "targets.csv").write_text("\n".join(targets) + "\n", encoding="utf-8")
    first = min(p.slot_start_at for p in make_plan(load_study(d)))
    clock = SharedClock(first + timedelta(minutes=15))
    sim = serve_on(d, clock)
    statuses: Counter[int] = Counter()
    sim.routes.handle = counting(sim.routes.handle, statuses)  # type: ignore[method-assign]
    events: list[str] = []
    try:
        config = RunnerConfig(reconcile_after_real_s=0)
        await run_campaign(
            d, api_base=sim.url, env={}, clock=clock, config=config,
            on_event=lambda at, text: events.append(text),
        )  # fmt: skip
    finally:
        sim.stop()
    assert statuses[429] == 0
    assert statuses[201] == 100
    assert sum(e.startswith(("caught up", "missed")) for e in events) == 10
