"""`status` says so when the sending period is over with probes still planned (the clock is
passed in; the command uses the real one, long after these 2026 slots)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from replybench.cli import app
from study.journal.status import read_status
from tests.study.journal.test_journal import T0, open_journal

LAST_SLOT_END = T0 + timedelta(hours=5)  # probe 3's slot: T0 + 3 h + 2 h


def test_status_warns_once_no_planned_probe_can_be_sent_in_its_slot(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    s = read_status(tmp_path)
    assert s.planned_until == "2026-03-02T14:00:00.000Z"
    assert s.period_warning(LAST_SLOT_END - timedelta(seconds=1)) is None
    assert s.period_warning(LAST_SLOT_END) == (
        "warning: the sending period is over: the last slot of the 3 probe(s) still planned "
        "ended at 2026-03-02T14:00:00.000Z, before now; they can no longer be sent in their "
        "slots (`replybench run` records them as missed)"
    )
    result = CliRunner().invoke(app, ["status", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [s.period_warning(LAST_SLOT_END)]
    j.record_missed(j.overdue(LAST_SLOT_END), LAST_SLOT_END)  # what run does with them
    j.close()
    assert read_status(tmp_path).period_warning(LAST_SLOT_END) is None
