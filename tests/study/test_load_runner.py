"""study.toml's outage keys: `catch_up` and `max_outage_minutes` in [study], and [alerts]."""

from __future__ import annotations

import pytest

from study.load import load_study
from study.model import Alerts

from .conftest import StudyFolder

SPACING = "min_spacing_hours = 2"


def test_the_defaults_catch_up_exit_after_an_hour_and_alert_no_one(folder: StudyFolder) -> None:
    study = load_study(folder.path)
    assert (study.catch_up, study.max_outage_minutes, study.alerts) == (True, 60.0, None)


def test_the_keys_are_read(folder: StudyFolder) -> None:
    folder.edit("study.toml", SPACING, f"{SPACING}\ncatch_up = false\nmax_outage_minutes = 90")
    folder.append("study.toml", '\n[alerts]\nurl_env = "REPLYBENCH_ALERT_URL"\n')
    study = load_study(folder.path)
    assert (study.catch_up, study.max_outage_minutes) == (False, 90.0)
    assert study.alerts == Alerts("REPLYBENCH_ALERT_URL", 15.0)
    folder.append("study.toml", "unreachable_minutes = 5\n")
    assert load_study(folder.path).alerts == Alerts("REPLYBENCH_ALERT_URL", 5.0)


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        (
            'catch_up = "yes"',
            "study.toml:12: catch_up must be true or false, not 'yes'; write true to send a "
            "probe whose slot passed while the runner was down in the next occurrence of its "
            "slot, false to record it as missed",
        ),
        (
            "max_outage_minutes = 0",
            "study.toml:12: max_outage_minutes must be a number of minutes > 0, not 0; set how "
            "long the runner keeps trying a channel it cannot reach before it exits, e.g. 60",
        ),
    ],
)
def test_a_bad_runner_key(folder: StudyFolder, new: str, problem: str) -> None:
    folder.edit("study.toml", SPACING, f"{SPACING}\n{new}")
    assert folder.problems() == [problem]


def test_an_alert_url_written_in_place_of_its_variable_is_not_shown(folder: StudyFolder) -> None:
    folder.append("study.toml", '\n[alerts]\nurl_env = "json://user:s3cret@example.org/hook"\n')
    line = folder.line_of("study.toml", "url_env")
    assert folder.problems() == [
        f"study.toml:{line}: url_env must be the name of an environment variable, not the value "
        "given (not shown); name the variable that holds the apprise URL(s), e.g. "
        '"REPLYBENCH_ALERT_URL"'
    ]


def test_alerts_need_their_variable_and_know_their_keys(folder: StudyFolder) -> None:
    folder.append("study.toml", "\n[alerts]\nunreachable_mins = 5\n")
    line = folder.line_of("study.toml", "[alerts]")
    assert folder.problems() == [
        f"study.toml:{line}: [alerts] has no url_env (the name of an environment variable); "
        'add it: name the variable that holds the apprise URL(s), e.g. "REPLYBENCH_ALERT_URL"',
        f"study.toml:{line + 1}: unknown key 'unreachable_mins' in [alerts]; did you mean "
        "'unreachable_minutes'?",
    ]
