"""A campaign started when manual texts began with their handle carries on after the change;
any other change of the plan is still refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from study.errors import StudyError
from study.journal.campaign import Journal
from study.model import PlannedProbe
from tests.study.journal.test_journal import PLAN, T0, probe

MANUAL = replace(probe(4), probe_id="kaito-DE-manual-r4", channel="manual", handle="+49 30 1234")
NOW = replace(MANUAL, text="Hallo 4")  # what the plan says today
BEFORE = replace(MANUAL, text="+49 30 1234 Hallo 4")  # what it said when the campaign started


def start(tmp_path: Path, plan: list[PlannedProbe]) -> Journal:
    return Journal.create_or_open(tmp_path, plan, study_name="t", window_hours=72, now=T0)


def test_a_campaign_started_with_the_handle_in_manual_texts_carries_on(tmp_path: Path) -> None:
    start(tmp_path, [*PLAN, BEFORE]).close()
    j = start(tmp_path, [*PLAN, NOW])
    assert j.probe(MANUAL.probe_id).text == "+49 30 1234 Hallo 4"  # as it started
    j.close()


def test_other_changes_of_the_plan_are_still_refused(tmp_path: Path) -> None:
    start(tmp_path, [*PLAN, BEFORE]).close()
    changed = [replace(PLAN[0], text="@kaito_de Hallo anders"), *PLAN[1:], NOW]
    with pytest.raises(StudyError, match="this journal was made from a different plan"):
        start(tmp_path, changed)
