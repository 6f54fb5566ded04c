"""`replybench backup` stopped by `kill` (SIGTERM) or a closed terminal (SIGHUP) mid-way:
like Ctrl-C, it removes its temporary beside --out, and the next backup succeeds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replybench.cli import app
from tests.study.journal.test_journal import open_journal

# The backup's snapshot is made, then the process signals itself: the signal arrives at a
# fixed point, with the temporary folder and its journal copy in place.
STOPPED_BACKUP = """
import os, signal, sys
import study.journal.backup as b
from replybench.cli import app
snapshot = b._snapshot
def stopped(*args):
    probes = snapshot(*args)
    os.kill(os.getpid(), getattr(signal, sys.argv[3]))
    return probes
b._snapshot = stopped
app(["backup", sys.argv[1], "--out", sys.argv[2]])
"""


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_a_stopped_backup_leaves_no_temporary(tmp_path: Path, signal_name: str) -> None:
    d = tmp_path / "s"
    open_journal(d).close()
    out = tmp_path / "b" / "copy.sqlite"
    args = [sys.executable, "-c", STOPPED_BACKUP, str(d), str(out), signal_name]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 130, done.stderr  # as after Ctrl-C (128 + SIGINT)
    assert list(out.parent.iterdir()) == []

    result = CliRunner().invoke(app, ["backup", str(d), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in out.parent.iterdir()] == ["copy.sqlite"]
