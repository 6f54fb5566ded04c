"""targets.csv's optional answers_from column: further accounts of a brand whose replies
count as the brand's (issue 11 item 6)."""

from __future__ import annotations

from study.load import load_study
from tests.study.conftest import StudyFolder


def with_answers_from(folder: StudyFolder, line: int, value: str) -> None:
    """targets.csv with an answers_from column, `value` on physical line `line`."""
    text = folder.text("targets.csv").splitlines()
    rows = [text[0] + ",answers_from"] + [r + "," for r in text[1:]]
    rows[line - 1] = rows[line - 1] + value
    folder.write("targets.csv", "\n".join(rows) + "\n")


def test_the_column_is_optional_and_reaches_the_targets_and_the_study(folder: StudyFolder):
    study = load_study(folder.path)
    assert {t.answers_from for t in study.targets} == {()}
    assert study.answers_from == ()
    with_answers_from(folder, 2, "NorthwindHelp  Northwind_Care")
    study = load_study(folder.path)
    [first] = [t for t in study.targets if t.line == 2]
    assert first.answers_from == ("NorthwindHelp", "Northwind_Care")
    assert study.answers_from == (("northwind", "northwind_care"), ("northwind", "northwindhelp"))


def test_a_bad_handle_is_named_with_its_line_field_and_fix(folder: StudyFolder):
    with_answers_from(folder, 3, "NorthwindHelp @Northwind_Care")
    assert folder.problems() == [
        "targets.csv:3: answers_from '@Northwind_Care' starts with '@'; write it without: "
        "'Northwind_Care'"
    ]


def test_the_row_s_own_handle_is_not_a_further_account(folder: StudyFolder):
    with_answers_from(folder, 2, "northwindair_us")
    assert folder.problems() == [
        "targets.csv:2: answers_from 'northwindair_us' is the row's own handle; list only "
        "further accounts"
    ]
