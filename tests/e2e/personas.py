"""Personas studies run in-process: one simulated X serving every persona's account (as
`replybench sim` builds it), each persona's adapter signing as its own account, and the
runner driving the personas asked for, all on one manual clock."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterable
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from probes import campaign
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.runner import Runner, RunnerConfig
from probes.sim import XPlatform
from study.clock import Clock, ManualClock
from study.load import load_study
from study.personas import personas_of
from study.plan import make_plan
from tests.e2e.multichannel import SharedClock, serve_on
from tests.test_cli import invoke

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "personas"
# Replies carry the platform's own times, so polling every 15 minutes changes no duration,
# only how soon a reply is seen: a fifth of the work of polling each minute.
POLLING = RunnerConfig(reconcile_after_real_s=0, poll_min_s=900, poll_max_s=3600)


def example_copy(path: Path) -> Path:
    shutil.copytree(EXAMPLE, path)
    return path


async def run_personas(study_dir: Path, only: Iterable[str] | None = None) -> None:
    """Run the study's campaign (the personas in `only`, else all) to its end on one
    simulated X that serves every persona's account (the same bots, seeds and clock in every
    run, so runs of parts of the personas add up to one run of all)."""
    study = load_study(study_dir)
    plan = make_plan(study)
    clock = ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    wanted = None if only is None else set(only)
    personas = [p for p in personas_of(study) if wanted is None or p.name in wanted]
    journal = campaign.open_journal(study_dir, study, plan, now=clock.now())
    platform = XPlatform.for_study(study, clock)  # enforcing, as `replybench sim` serves it
    try:
        async with AsyncExitStack() as stack:
            channels = {}
            for p in personas:
                client = await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.MockTransport(platform.handle),
                        base_url="https://api.x.test",
                        auth=sim_auth(p.account),  # signing as this persona's account
                    )
                )
                channels[p.name] = XChannel(client, account=p.account, clock=clock)
            runner = Runner(
                study,
                journal,
                channels,
                clock,
                config=POLLING,
                seed=study.seed,
                drive=set(channels),
            )
            await runner.run()
    finally:
        platform.close()
        journal.close()


def run_cli(d: Path, *personas: str, config: RunnerConfig | None = None) -> str:
    """`replybench run DIR --api-base SIM [--persona NAME ...]` against the study's
    simulator (as `replybench sim` serves it), on a clock of the test's own (what the runner
    would read from /__sim/clock); `config` (e.g. POLLING) in place of the runner's defaults."""
    study = load_study(d)
    clock = SharedClock(min(p.slot_start_at for p in make_plan(study)) - timedelta(hours=1))

    async def the_simulators_clock(api_base: str) -> Clock:
        return clock

    sim = serve_on(d, clock)
    try:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(campaign, "discover_clock", the_simulators_clock)
            if config is not None:
                run = functools.partial(campaign.run_campaign, config=config)
                m.setattr(campaign, "run_campaign", run)
            args = [a for n in personas for a in ("--persona", n)]
            code, out, err = invoke("run", str(d), "--api-base", sim.url, *args, env={})
    finally:
        sim.stop()
    assert code == 0, err
    return out
