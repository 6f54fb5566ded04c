"""`replybench run`: load the study, check and build its channels, open the journal, run to
the end.

Everything that could stop the campaign is checked before the journal is written: every
channel's kind, endpoints and credentials (`probes.channels.registry`), then each channel's
credentials with its platform (preflight). The runner drives every channel but `manual`,
whose probes people send: they stay `planned` in the journal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx

from probes.alerts import Alerter, alerter_for
from probes.channels.registry import (
    HTTP_KINDS,
    api_base_of,
    build_channels,
    check_channels,
    driven,
    driven_personas,
    is_loopback,
)
from probes.confirm.gate import ConfirmGate
from probes.confirm.person import check_way, person_in_the_loop
from probes.confirm.queue import ConfirmationQueue
from probes.runner import Runner, RunnerConfig, RunSummary
from probes.snapshot import Snapshot
from study.clock import Clock, ClockAnchor, ScaledClock, SystemClock
from study.errors import StudyError
from study.journal.campaign import Journal
from study.journal.lock import PID, RunLock
from study.load import load_study
from study.model import PlannedProbe, Study
from study.personas import personas_of
from study.plan import make_plan

log = logging.getLogger(__name__)


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
    try:
        return ScaledClock(ClockAnchor.from_json(r.text))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StudyError(
            f"{api_base}/__sim/clock answered {r.text[:80]!r}, not the simulator's clock; point "
            "--api-base at a running 'replybench sim', or at the platform's API"
        ) from None


def _first_api_base(study: Study, api_base: str | None) -> str | None:
    """Where a simulator would be: the API base of the first HTTP channel the runner drives."""
    for name in driven(study):
        if name in HTTP_KINDS:
            return api_base_of(study.channel(name), api_base)
    return None


def open_journal(
    study_dir: Path, study: Study, plan: list[PlannedProbe], *, now: datetime
) -> Journal:
    """The study's journal as a run opens it: made from `plan` on first use with the study's
    personas, and the brands' further accounts (targets.csv `answers_from`) brought up to
    date."""
    return Journal.create_or_open(
        study_dir,
        plan,
        study_name=study.name,
        window_hours=study.window_hours,
        now=now,
        personas=personas_of(study),
        answers_from=study.answers_from,
    )


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
    on_event: Callable[[datetime, str], None] | None = None,
    personas: Collection[str] | None = None,
    confirm: str | None = None,
    say: Callable[[str], object] = sys.stderr.write,
) -> RunSummary:
    """Run the study's campaign to its end; `personas` (`run --persona`) names the accounts
    whose probes this run sends and whose inboxes it reads (all when None): a team shares one
    plan, each member running their own, and `replybench merge` joins their journals.
    `confirm` ("web" or "terminal") has a person confirm each send of every channel; None
    leaves it to study.toml's `confirm` keys (on the web page). `say` tells the person where
    to confirm."""
    env = os.environ if env is None else env
    if confirm is not None:
        check_way(confirm)
    drill = env.get("REPLYBENCH_DRILL_CRASH_AFTER_SEND")
    if drill:
        config = replace(config or RunnerConfig(), crash_after_send=float(drill))
    study = load_study(study_dir)
    plan = make_plan(study)
    # Before anything is sent:
    check_channels(study, env=env, api_base=api_base, live=live, only=personas)
    alerter = alerter_for(study, env)
    if clock is None:
        base = _first_api_base(study, api_base)
        clock = await discover_clock(base) if base is not None else SystemClock()
    built = build_channels(study, env=env, clock=clock, api_base=api_base, live=live, only=personas)
    try:
        for warning in await built.preflight():
            if on_event is not None:
                on_event(clock.now(), warning)
            else:
                log.warning("%s", warning)
        journal = open_journal(study_dir, study, plan, now=clock.now())
        lock = RunLock(study_dir)
        try:
            lock.acquire()
            journal.set_meta(PID, str(os.getpid()))
            asked = study.confirmed_channels()  # a person confirms these accounts' sends
            attended = {p.name for p in driven_personas(study, personas)
                        if confirm or p.channel in asked} & set(built.channels)  # fmt: skip
            queue = ConfirmationQueue()
            gate = ConfirmGate(study, journal, queue, attended) if attended else None
            runner = Runner(
                study,
                journal,
                built.channels,
                clock,
                config=config,
                on_progress=on_progress,
                seed=study.seed,
                drive=set(built.channels),
                alerter=alerter,
                on_event=on_event,
                confirm=gate,
            )
            if on_runner is not None:
                on_runner(runner)
            if gate is None:
                return await run_and_tell(runner, alerter, study.name)
            with person_in_the_loop(gate.queue, clock, confirm or "web", say=say):
                return await run_and_tell(runner, alerter, study.name)
        finally:
            journal.close()
            lock.release()  # after the journal: see study.journal.lock
    finally:
        await built.aclose()


async def run_and_tell(runner: Runner, alerter: Alerter | None, name: str) -> RunSummary:
    """Run the campaign; with [alerts], tell a person how it ended (finished or stopped)."""
    if alerter is None:
        return await runner.run()
    try:
        summary = await runner.run()
    except BaseException as e:  # an outage exit, an error, Ctrl-C: a person should know
        why = "interrupted" if isinstance(e, KeyboardInterrupt | asyncio.CancelledError) else e
        await alerter.drain()
        await alerter.send(
            "stopped",
            f"replybench: the runner of {name} stopped",
            f"{name}: the runner stopped: {why}. The journal is intact; run it again to resume.",
        )
        raise
    await alerter.drain()
    states = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()))
    if summary.interrupted:
        title, body = "stopped", f"{name}: the runner was stopped ({states})."
    else:
        title, body = "finished", f"{name}: the campaign is over: {states}."
    await alerter.send(title, f"replybench: {name} {title}", body)
    return summary
