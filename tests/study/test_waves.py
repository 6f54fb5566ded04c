"""Waves: study.toml's wave and previous, and `replybench new-wave`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replybench.cli import app
from study.errors import StudyError
from study.load import find_problems, load_study
from study.scaffold import init_study
from study.waves import default_start, new_wave


def test_a_study_without_the_keys_is_wave_one_with_no_previous(tmp_path: Path) -> None:
    s = load_study(init_study_dir(tmp_path / "s"))
    assert (s.wave, s.previous) == (1, None)


def init_study_dir(path: Path) -> Path:
    init_study(path)
    return path


def test_new_wave_copies_the_design_and_moves_the_period(tmp_path: Path) -> None:
    old = init_study_dir(tmp_path / "one")
    (old / "journal").mkdir()
    made = new_wave(old, tmp_path / "two")
    assert (made.wave, made.previous) == (2, "../one")
    first, second = load_study(old), load_study(tmp_path / "two")
    assert second.wave == 2 and second.previous is not None
    assert second.previous.resolve() == old.resolve()
    assert second.start == made.start and second.start.weekday() == first.start.weekday()
    assert second.start > first.end
    assert second.end - second.start == first.end - first.start
    assert (second.targets, second.scripts, second.seed) == (
        first.targets, first.scripts, first.seed,
    )  # fmt: skip
    assert not (tmp_path / "two" / "journal").exists()
    # comments survive; a third wave counts on
    assert "# the plan is a pure function" in (tmp_path / "two" / "study.toml").read_text()
    assert new_wave(tmp_path / "two", tmp_path / "three", date(2026, 6, 1)).wave == 3
    assert load_study(tmp_path / "three").start == date(2026, 6, 1)


def test_the_default_start_waits_for_the_last_window_and_keeps_the_weekday() -> None:
    # a Monday-to-Sunday period, 72-hour windows: closed by Wednesday, next Monday after it
    assert default_start(date(2026, 3, 2), date(2026, 3, 22), 72) == date(2026, 3, 30)
    assert default_start(date(2026, 3, 2), date(2026, 3, 22), 24 * 8) == date(2026, 4, 6)


def test_new_wave_refuses_an_existing_folder_and_leaves_nothing(tmp_path: Path) -> None:
    old = init_study_dir(tmp_path / "one")
    (tmp_path / "two").mkdir()
    with pytest.raises(StudyError, match="two: already exists"):
        new_wave(old, tmp_path / "two")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]


def test_a_previous_wave_that_is_not_a_folder_is_a_problem(tmp_path: Path) -> None:
    d = init_study_dir(tmp_path / "s")
    toml = d / "study.toml"
    toml.write_text(toml.read_text().replace("[study]\n", '[study]\nprevious = "../gone"\n'))
    _, problems = find_problems(d)
    [p] = problems
    assert (p.file, p.line) == ("study.toml", 5)
    assert p.message.startswith("previous = '../gone' is not a folder")


def test_the_cli_writes_a_wave_and_compare_names_a_missing_journal(tmp_path: Path) -> None:
    old = init_study_dir(tmp_path / "one")
    runner = CliRunner()
    done = runner.invoke(app, ["new-wave", str(old), "--out", str(tmp_path / "two")])
    assert done.exit_code == 0, done.output
    assert "wave 2, sending 2026-03-30 to 2026-04-19" in done.output
    bad = runner.invoke(
        app, ["new-wave", str(old), "--out", str(tmp_path / "x"), "--start", "soon"]
    )
    assert bad.exit_code == 2  # bad usage
    assert bad.output.strip().endswith(
        "Error: --start 'soon' is not a date; write it like 2026-04-06"
    )
    done = runner.invoke(app, ["compare", str(old), str(tmp_path / "two")])
    assert done.exit_code == 1
    assert "no journal yet; run the campaign first" in done.output
