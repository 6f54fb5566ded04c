"""The crash drill: `replybench sim` and `replybench run` as separate processes, the runner
killed with SIGKILL at random moments and started again, then checked against the
simulator's ledger: no probe posted twice, nothing acknowledged lost, every reply to the
probe account (up to the last inbox read) in the journal."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from probes.audit import audit
from study.load import load_study
from study.paths import sim_dir
from study.plan import make_plan
from tests.e2e.studies import short_study

CLI = [sys.executable, "-m", "study.cli"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("REPLYBENCH_")}
# Besides the random kills, runners die at the worst moment: after the platform acknowledged
# a post, before the journal recorded it.
RUN_ENV = {**ENV, "REPLYBENCH_DRILL_CRASH_AFTER_SEND": "0.15"}


def start_sim(d: Path, speed: float, faults: float) -> tuple[subprocess.Popen[bytes], str]:
    port_file = sim_dir(d) / "port"
    proc = subprocess.Popen(
        [*CLI, "sim", str(d), "--port", "0", "--speed", f"{speed:.2f}", "--faults", str(faults)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return proc, f"http://127.0.0.1:{port_file.read_text().strip()}"
        assert proc.poll() is None, "the simulator exited at start"
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the simulator did not write its port")


def status_json(d: Path) -> dict[str, object]:
    out = subprocess.run(
        [*CLI, "status", str(d), "--json"], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert out.returncode == 0, out.stderr
    value = json.loads(out.stdout)
    assert isinstance(value, dict)
    return value


@pytest.mark.slow
def test_kill_9_at_random_moments_never_posts_twice_and_loses_nothing(tmp_path: Path) -> None:
    d = short_study(tmp_path / "drill", window_hours=3)
    study = load_study(d)
    plan = make_plan(study)
    span = (
        max(p.scheduled_at for p in plan)
        + timedelta(hours=study.window_hours + 1)
        - (min(p.slot_start_at for p in plan) - timedelta(hours=1))
    )
    speed = span.total_seconds() / 30  # the whole campaign in about 30 real seconds
    sim, url = start_sim(d, speed, faults=0.15)
    rng = random.Random(int(os.environ.get("DRILL_SEED", "2026")))
    kills = 0
    crashes = 0  # runs that died at the injection point (exit 137)
    seen_running = False
    try:
        while True:
            log = tmp_path / f"run-{kills}.log"
            with log.open("wb") as f:
                runner = subprocess.Popen(
                    [*CLI, "run", str(d), "--api-base", url], stdout=f, stderr=f, env=RUN_ENV
                )
            if kills < 6:
                time.sleep(rng.uniform(0.4, 3.0))
                if runner.poll() == 137:
                    crashes += 1
                    continue
                if runner.poll() is None:
                    if not seen_running and kills >= 1:
                        # status from another process while run is running
                        s = status_json(d)
                        assert s["probes"] == len(plan)
                        seen_running = s["running_pid"] == runner.pid
                    runner.send_signal(signal.SIGKILL)
                    runner.wait()
                    kills += 1
                    continue
            runner.wait(timeout=180)
            if runner.returncode == 137:
                crashes += 1
                continue
            assert runner.returncode == 0, log.read_text()
            break
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(10)
    assert kills >= 3, "the campaign ended before the drill could kill it often enough"
    assert seen_running, "status never saw the runner running"
    assert crashes >= 1, "no run died between acknowledgement and journal"
    final = status_json(d)
    states = final["states"]
    assert isinstance(states, dict)
    assert set(states) <= {"closed", "missed"}, states
    assert states.get("closed", 0) >= len(plan) // 2
    report = audit(study, d)
    assert report.ok, report.problems
    assert report.reconciled >= crashes  # each post acknowledged then lost was found again
    assert sum(r.ledger_posts for r in report.rows) == states.get("closed", 0)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_a_second_start_resumes(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s", window_hours=3, brands=4)
    study = load_study(d)
    plan = make_plan(study)
    span = (
        max(p.scheduled_at for p in plan)
        + timedelta(hours=study.window_hours + 1)
        - (min(p.slot_start_at for p in plan) - timedelta(hours=1))
    )
    sim, url = start_sim(d, span.total_seconds() / 12, faults=0.0)
    try:
        first = subprocess.Popen(
            [*CLI, "run", str(d), "--api-base", url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
        )  # fmt: skip
        time.sleep(4)
        assert first.poll() is None, "the campaign ended before Ctrl-C"
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=30)
        assert first.returncode == 130, err.decode()
        assert "stopped; the journal is intact: run the same command again to resume" in (
            err.decode()
        )
        assert "Traceback" not in err.decode()
        middle = status_json(d)
        assert middle["running_pid"] is None
        states = middle["states"]
        assert isinstance(states, dict) and states.get("planned", 0) < len(plan)
        second = subprocess.run(
            [*CLI, "run", str(d), "--api-base", url],
            capture_output=True, env=ENV, timeout=120,
        )  # fmt: skip
        assert second.returncode == 0, second.stderr.decode()
        assert "campaign over:" in second.stdout.decode()
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(10)
    assert audit(study, d).ok
