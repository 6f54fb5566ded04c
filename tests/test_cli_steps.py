"""Long commands (import-twcs, analyze) show the step they are at on a terminal, and nothing
where their output is a pipe or a file."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from analysis.analyze import analyze
from analysis.twcs import import_twcs
from replybench.cli import app
from replybench.common import steps

SMALL = Path(__file__).resolve().parent / "fixtures" / "analysis" / "twcs_small.csv"


def test_import_and_analyze_tell_each_step_as_it_starts(tmp_path: Path) -> None:
    told: list[str] = []
    import_twcs(SMALL, tmp_path / "s", step=told.append)
    assert told == [
        "reading twcs_small.csv",
        "pairing 18 tweets' inquiries and responses",
        "writing the corpus beside the journal",
    ]
    told.clear()
    analyze(tmp_path / "s", replicates=100, step=told.append)
    assert told == [
        "reading the journal and each probe's first response",
        "group statistics, log-rank tests and 100 bootstrap replicates",
    ]


def test_the_steps_show_on_a_terminal_and_nowhere_else() -> None:
    shown = io.StringIO()
    terminal = Console(file=shown, force_terminal=True, width=100)
    with steps(terminal) as step:
        step("pairing 20 tweets' inquiries and responses")
    assert "pairing 20 tweets' inquiries and responses ..." in shown.getvalue()

    piped = io.StringIO()
    with steps(Console(file=piped, force_terminal=False)) as step:
        step("pairing 20 tweets' inquiries and responses")
    assert piped.getvalue() == ""


def test_the_commands_print_only_their_results_when_not_on_a_terminal(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["import-twcs", str(SMALL), "--into", str(tmp_path / "s")])
    assert made.exit_code == 0, made.stderr
    assert made.stderr == ""
    assert made.stdout.startswith(f"created {tmp_path / 's' / 'journal' / 'journal.sqlite'}: ")
    analyzed = runner.invoke(app, ["analyze", str(tmp_path / "s"), "--replicates", "100"])
    assert analyzed.exit_code == 0, analyzed.stderr
    assert analyzed.stderr == "" and "..." not in analyzed.stdout
