"""The personas example run in-process: one simulated X per persona account (each its own
probe account, as on X), every persona's adapter and the runner on one manual clock."""

from __future__ import annotations

import shutil
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx

from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.runner import Runner, RunnerConfig
from probes.sim import XPlatform
from study.clock import ManualClock
from study.journal.campaign import Journal
from study.load import load_study
from study.personas import personas_of
from study.plan import make_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "personas"


def example_copy(path: Path) -> Path:
    shutil.copytree(EXAMPLE, path)
    return path


async def run_personas(study_dir: Path, only: set[str] | None = None) -> None:
    """Run the study's campaign (the personas in `only`, else all) to its end on simulated
    X accounts, one platform per persona account."""
    study = load_study(study_dir)
    plan = make_plan(study)
    clock = ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    personas = [p for p in personas_of(study) if only is None or p.name in only]
    journal = Journal.create_or_open(
        study_dir,
        plan,
        study_name=study.name,
        window_hours=study.window_hours,
        now=clock.now(),
        personas=personas_of(study),
    )
    platforms = []
    async with AsyncExitStack() as stack:
        channels = {}
        for p in personas:
            # The platform as this persona's account sees it: it is the probe account.
            own = replace(study, channels=(p.settings,))
            platform = XPlatform.for_study(own, clock)
            platforms.append(platform)
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.MockTransport(platform.handle),
                    base_url="https://api.x.test",
                    auth=sim_auth(),
                )
            )
            channels[p.name] = XChannel(client, account=p.account, clock=clock)
        # Replies carry the platform's own times, so polling every 15 minutes changes no
        # duration, only how soon a reply is seen: a fifth of the work of polling each minute.
        config = RunnerConfig(reconcile_after_real_s=0, poll_min_s=900, poll_max_s=3600)
        runner = Runner(
            study, journal, channels, clock, config=config, seed=study.seed, drive=set(channels)
        )
        await runner.run()
    for platform in platforms:
        platform.close()
    journal.close()
