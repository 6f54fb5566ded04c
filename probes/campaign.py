"""`replybench run`: load the study, open the journal, build the channels, run to the end."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from probes.channel import AuthError, Channel, OutcomeUnknown, Transient
from probes.journal import Journal
from probes.lock import RunLock
from probes.runner import Runner, RunnerConfig, RunSummary, Snapshot
from probes.x import XChannel, make_client
from study.clock import Clock, ClockAnchor, ScaledClock, SystemClock
from study.errors import StudyError
from study.load import load_study
from study.model import Study
from study.plan import make_plan

SIM_TOKEN = "replybench-simulator"  # what the simulator accepts when no token is exported


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_base(url: str, *, live: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StudyError(f"API base {url!r} is not an http(s) URL; e.g. http://127.0.0.1:8765")
    if not live and not is_loopback(url):
        raise StudyError(
            f"refusing to send to {url} without --live: that would post real inquiries to real "
            "brands. Point --api-base at the simulator (replybench sim DIR --port 8765, then "
            "--api-base http://127.0.0.1:8765), or add --live when the study is ready"
        )


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


def token_for(study: Study, channel: str, api_base: str, env: Mapping[str, str]) -> str:
    settings = study.channel(channel)
    token = env.get(settings.token_env, "")
    if token:
        return token
    if is_loopback(api_base):
        return SIM_TOKEN
    raise StudyError(
        f"study.toml [channels.{channel}]: environment variable {settings.token_env} is not set; "
        f"export the probe account's token in it (credentials never go in the study folder)"
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
) -> RunSummary:
    env = os.environ if env is None else env
    drill = env.get("REPLYBENCH_DRILL_CRASH_AFTER_SEND")
    if drill:
        config = replace(config or RunnerConfig(), crash_after_send=float(drill))
    study = load_study(study_dir)
    plan = make_plan(study)
    used = sorted({p.channel for p in plan})
    bases: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for name in used:
        if name != "x":
            raise StudyError(
                f"targets.csv: channel {name!r} has no adapter yet; use 'x' for this study"
            )
        base = (api_base or study.channel(name).api_base).rstrip("/")
        check_api_base(base, live=live)
        bases[name] = base
        tokens[name] = token_for(study, name, base, env)  # before anything is written
    if clock is None:
        clock = await discover_clock(next(iter(bases.values()))) if bases else SystemClock()
    clients: list[httpx.AsyncClient] = []
    try:
        channels: dict[str, Channel] = {}
        for name, base in bases.items():
            client = make_client(base, tokens[name])
            clients.append(client)
            x = XChannel(client, account=study.channel(name).account, clock=clock)
            await preflight(x, study, name, base)
            channels[name] = x
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
                    channels,
                    clock,
                    config=config,
                    on_progress=on_progress,
                    seed=study.seed,
                )
                if on_runner is not None:
                    on_runner(runner)
                return await runner.run()
            finally:
                journal.close()
    finally:
        for c in clients:
            await c.aclose()


async def preflight(channel: XChannel, study: Study, name: str, base: str) -> None:
    """Check the probe account's credentials before anything is written or sent."""
    settings = study.channel(name)
    try:
        await channel.me()
    except AuthError as e:
        raise StudyError(
            f"{name} at {base}: {e}; check the token in {settings.token_env} and the account "
            f"{settings.account!r} in study.toml [channels.{name}]"
        ) from e
    except (Transient, OutcomeUnknown) as e:
        raise StudyError(f"{name} at {base}: cannot reach the API ({e}); try again later") from e
