"""`replybench run`: load the study, check and build its channels, open the journal, run to
the end.

Everything that could stop the campaign is checked before the journal is written: every
channel's kind, endpoints and credentials (`probes.channels`), then each channel's
credentials with its platform (preflight). The runner drives every channel but `manual`,
whose probes people send: they stay `planned` in the journal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import httpx

from probes.channels import (
    HTTP_KINDS,
    api_base_of,
    build_channels,
    check_channels,
    driven,
    is_loopback,
)
from probes.journal import Journal
from probes.lock import RunLock
from probes.runner import Runner, RunnerConfig, RunSummary, Snapshot
from study.clock import Clock, ClockAnchor, ScaledClock, SystemClock
from study.load import load_study
from study.model import Study
from study.plan import make_plan


async def discover_clock(api_base: str) -> Clock:
    """The simulator's virtual clock when `api_base` is the simulator, else real time."""
    if not is_loopback(api_base):
        return SystemClock()
    try:
        async with httpx.AsyncClient(base_url=api_base, timeout=5) as c:
            r = await c.get("/__sim/clock")
    except httpx.HTTPError:
        return SystemClock()
    if r.status_code != 200:
        return SystemClock()
    return ScaledClock(ClockAnchor.from_json(r.text))


def _first_api_base(study: Study, api_base: str | None) -> str | None:
    """Where a simulator would be: the API base of the first HTTP channel the runner drives."""
    for name in driven(study):
        if name in HTTP_KINDS:
            return api_base_of(study.channel(name), api_base)
    return None


async def run_campaign(
    study_dir: Path,
    *,
    api_base: str | None = None,
    live: bool = False,
    env: Mapping[str, str] | None = None,
    on_progress: Callable[[Snapshot], None] | None = None,
    config: RunnerConfig | None = None,
    clock: Clock | None = None,
    on_runner: Callable[[Runner], None] | None = None,
) -> RunSummary:
    env = os.environ if env is None else env
    drill = env.get("REPLYBENCH_DRILL_CRASH_AFTER_SEND")
    if drill:
        config = replace(config or RunnerConfig(), crash_after_send=float(drill))
    study = load_study(study_dir)
    plan = make_plan(study)
    check_channels(study, env=env, api_base=api_base, live=live)  # before anything is sent
    if clock is None:
        base = _first_api_base(study, api_base)
        clock = await discover_clock(base) if base is not None else SystemClock()
    built = build_channels(study, env=env, clock=clock, api_base=api_base, live=live)
    try:
        await built.preflight()
        with RunLock(study_dir):
            journal = Journal.create_or_open(
                study_dir,
                plan,
                study_name=study.name,
                window_hours=study.window_hours,
                now=clock.now(),
            )
            try:
                runner = Runner(
                    study,
                    journal,
                    built.channels,
                    clock,
                    config=config,
                    on_progress=on_progress,
                    seed=study.seed,
                    drive=set(built.channels),
                )
                if on_runner is not None:
                    on_runner(runner)
                return await runner.run()
            finally:
                journal.close()
    finally:
        await built.aclose()
