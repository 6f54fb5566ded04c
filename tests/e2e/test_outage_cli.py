"""`replybench run` against a simulator that goes away: one log line per event on a
non-terminal, exit code 75 after max_outage_minutes, and `replybench status` saying why."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from study.paths import journal_path
from tests.e2e.studies import short_study
from tests.e2e.test_crash_drill import CLI, ENV, start_sim

EVENT_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z \S.*")


def sent_probes(d: Path) -> int:
    """Probes the runner has recorded as sent (0 while the journal does not exist yet)."""
    if not journal_path(d).exists():
        return 0
    con = sqlite3.connect(f"file:{journal_path(d)}?mode=ro", uri=True, timeout=30)
    try:
        return int(
            con.execute("SELECT count(*) FROM probes WHERE sent_at IS NOT NULL").fetchone()[0]
        )
    except sqlite3.OperationalError:  # the tables are being created
        return 0
    finally:
        con.close()


@pytest.mark.slow
def test_run_exits_75_when_the_platform_is_gone_and_status_says_why(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s", brands=4)
    # Two processes cannot share the test's manual clock; nothing below counts probes, so
    # only the first send is bet on the machine's speed: at 1,200 virtual seconds a real
    # second it is due about 4 s after the runner starts the clock, and its 8-hour slot
    # leaves it 24 s to get out. The 60-minute outage limit is then 3 s.
    sim, url = start_sim(d, speed=1200, faults=0.0)
    log = tmp_path / "run.log"
    with log.open("wb") as f:
        run = subprocess.Popen(
            [*CLI, "run", str(d), "--api-base", url], stdout=f, stderr=f, env=ENV
        )
    try:
        deadline = time.monotonic() + 120
        while sent_probes(d) == 0:
            assert run.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no probe was sent"
            time.sleep(0.05)
    finally:
        sim.send_signal(signal.SIGTERM)  # the platform goes away
        sim.wait(10)
    code = run.wait(timeout=300)
    out = log.read_text()
    assert code == 75, out
    lines = out.splitlines()
    assert lines[-1].startswith("Error: x could not be reached from "), out
    assert lines[-1].endswith(
        "stopped after max_outage_minutes (60) with exit code 75; the journal is intact: run "
        "the same command again to resume (probes whose slot passed are caught up)"
    )
    # Off a terminal: one timestamped line per event, no progress bar.
    events = lines[:-1]
    assert events and all(EVENT_LINE.fullmatch(e) for e in events), out
    assert any(re.search(r"Z sent \S+-x-r1$", e) for e in events)
    assert any("inbox read failed" in e for e in events)
    status = subprocess.run(
        [*CLI, "status", str(d)], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert status.returncode == 0, status.stderr
    [health] = [s for s in status.stdout.splitlines() if s.startswith("health:")]
    assert re.match(
        r"health: the runner stopped at \d{4}-\d\d-\d\d \d\d:\d\d UTC with exit code 75: x "
        r"could not be reached from ",
        health,
    ), health
    assert health.endswith("run it again to resume (probes whose slot passed are caught up "
                           "where the study allows)")  # fmt: skip
