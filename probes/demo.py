"""`replybench demo`: the example study, run on the built-in simulator in about a minute.

The simulator runs as its own process, as it would for a researcher trying a study out; the
runner finds its virtual clock over HTTP, so the 72-hour windows pass in seconds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from probes.audit import AuditReport, audit
from probes.campaign import run_campaign
from probes.runner import RunnerConfig
from probes.snapshot import Snapshot
from study.errors import StudyError
from study.load import load_study
from study.paths import sim_dir
from study.plan import make_plan

MARKER = ".replybench-demo"


def example_dir() -> Path:
    here = Path(__file__).resolve().parent.parent / "data" / "examples" / "uxalliance"
    if not here.is_dir():
        raise StudyError(
            f"{here}: the example study is missing; install replybench from a clone of the "
            "repository (pip install -e .)"
        )
    return here


def prepare(out: Path) -> None:
    """Copy the example study into `out`, replacing an earlier demo but nothing else."""
    if out.exists():
        if (out / MARKER).exists():
            shutil.rmtree(out)
        elif any(out.iterdir()):
            raise StudyError(
                f"{out}: folder exists and is not an earlier demo; choose another --out"
            )
        else:
            out.rmdir()
    shutil.copytree(example_dir(), out)
    (out / MARKER).write_text("made by replybench demo; safe to delete\n", encoding="utf-8")


def speed_for(out: Path, seconds: float) -> float:
    study = load_study(out)
    plan = make_plan(study)
    start = min(p.slot_start_at for p in plan) - timedelta(hours=1)
    end = max(p.scheduled_at for p in plan) + timedelta(hours=study.window_hours + 1)
    return (end - start).total_seconds() / seconds


def start_simulator(out: Path, speed: float, faults: float) -> tuple[subprocess.Popen[bytes], int]:
    port_file = sim_dir(out) / "port"
    port_file.unlink(missing_ok=True)
    sim_dir(out).mkdir(parents=True, exist_ok=True)
    log = (sim_dir(out) / "sim.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "replybench",
            "sim",
            str(out),
            "--port",
            "0",
            "--speed",
            f"{speed:.3f}",
            "--faults",
            str(faults),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return proc, int(port_file.read_text().strip())
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise StudyError(f"the simulator did not start; see {sim_dir(out) / 'sim.log'}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_demo(
    out: Path,
    *,
    seconds: float = 60.0,
    faults: float = 0.0,
    on_progress: Callable[[Snapshot], None] | None = None,
    on_event: Callable[[datetime, str], None] | None = None,
) -> AuditReport:
    prepare(out)
    speed = speed_for(out, seconds)
    proc, port = start_simulator(out, speed, faults)
    try:
        asyncio.run(
            run_campaign(
                out,
                api_base=f"http://127.0.0.1:{port}",
                env={},
                on_progress=on_progress,
                on_event=on_event,
                config=RunnerConfig(poll_min_s=120, poll_max_s=1800),
            )
        )
    finally:
        stop(proc)
    return audit(load_study(out), out)
