"""simulator.toml checked whole: every problem at once at its line, by `validate` with the
rest of the folder, and by `sim` before it writes anything."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from probes.sim.profiles import settings_problems, study_problems
from probes.sim.server import start_background
from replybench.cli import app
from study.errors import StudyProblems
from study.load import load_study
from tests.conftest import EXAMPLE

BAD = """\
[simulator]
stranger_rat = 0.1

[defaults]
answer_rate = 0.6

[brands.kiato]
answer_rate = 0.5

[brands.kaito]
median_minutes = -5
opens = "9:00"

[brands.brenner.countries.UK]
median_minutes = 30

[brands.brenner.channels.x]
dm_share = 0.9
redirect_share = 0.3
"""

EXPECTED = [
    "simulator.toml:2: unknown key 'stranger_rat' in [simulator]; did you mean 'stranger_rate'?",
    "simulator.toml:7: [brands.kiato] names a brand that targets.csv does not have; did you "
    "mean 'kaito'?",
    "simulator.toml:11: [brands.kaito] median_minutes must be a number > 0, not -5; e.g. 180",
    "simulator.toml:12: [brands.kaito] opens must be \"HH:MM\" (24:00 allowed), not '9:00'; "
    'e.g. "09:00"',
    "simulator.toml:14: [brands.brenner.countries.UK] names a country study.toml does not "
    "have; did you mean 'GB'?",
    "simulator.toml:17: [brands.brenner.channels.x]: redirect_share (0.3) and dm_share (0.9) "
    "are shares of the same answers and add up to more than 1; lower one of them",
]


@pytest.fixture
def bad_study(tmp_path: Path) -> Path:
    d = tmp_path / "study"
    shutil.copytree(EXAMPLE, d)
    (d / "simulator.toml").write_text(BAD, encoding="utf-8")
    return d


def test_every_problem_of_simulator_toml_is_found_at_once_at_its_line(bad_study: Path) -> None:
    study = load_study(bad_study)
    assert [str(p) for p in study_problems(bad_study, study)] == EXPECTED


def test_without_a_sound_study_the_file_is_still_checked_on_its_own(bad_study: Path) -> None:
    problems = [str(p) for p in study_problems(bad_study, None)]
    assert problems == [EXPECTED[0], EXPECTED[2], EXPECTED[3], EXPECTED[5]]


def test_a_syntax_error_is_one_problem_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "simulator.toml").write_text("[defaults]\nanswer_rate = = 1\n", encoding="utf-8")
    settings, problems = settings_problems(tmp_path, seed=1)
    assert settings is None
    [problem] = problems
    assert (problem.file, problem.line) == ("simulator.toml", 2)
    assert problem.message.startswith("is not valid TOML (")


def test_validate_lists_simulator_problems_with_the_rest(bad_study: Path) -> None:
    with (bad_study / "targets.csv").open("a", encoding="utf-8") as f:
        f.write("kaito,Kaito Motors,automotive,UK,x,KaitoMotors_UK,local\n")
    result = CliRunner().invoke(app, ["validate", str(bad_study)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{bad_study / 'targets.csv'}:")
    assert "country 'UK'" in lines[0]
    # The study has a problem, so simulator.toml is checked on its own (no name checks).
    assert lines[1:-1] == [
        f"{bad_study}/{line}" for line in (EXPECTED[0], EXPECTED[2], EXPECTED[3], EXPECTED[5])
    ]
    assert lines[-1] == "Error: 5 problems found; fix them and run again"


def test_validate_checks_simulator_toml_against_a_sound_study(bad_study: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(bad_study)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        *(f"{bad_study}/{line}" for line in EXPECTED),
        "Error: 6 problems found; fix them and run again",
    ]


def test_sim_on_a_bad_simulator_toml_writes_nothing(bad_study: Path) -> None:
    with pytest.raises(StudyProblems) as e:
        start_background(bad_study, port=0)
    assert [str(p) for p in e.value.problems] == EXPECTED
    assert not (bad_study / "sim").exists()
    result = CliRunner().invoke(app, ["sim", str(bad_study), "--port", "0"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"{bad_study}/{EXPECTED[0]}"
    assert not (bad_study / "sim").exists()
