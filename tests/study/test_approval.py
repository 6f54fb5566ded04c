"""study.toml's [ethics.approval]: read with the study, shown on the method page
(tests/reports/test_personas.py), and asked for by `validate` when the design is balanced."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from study.approval import approval_warning
from study.errors import StudyProblems
from study.load import load_study
from tests.e2e.personas import EXAMPLE
from tests.test_cli_polish import invoke

APPROVAL = re.compile(r"\[ethics\.approval\]\n(?:[a-z]+ = .*\n)+")


def folder(tmp_path: Path, approval: str | None = None, *, year: int = 2098) -> Path:
    """The personas example with its dates in `year` and `approval` as its
    [ethics.approval] table (None: the example's own; "": none)."""
    d = tmp_path / "study"
    shutil.copytree(EXAMPLE, d)
    toml = d / "study.toml"
    text = toml.read_text(encoding="utf-8").replace("= 2026-03-", f"= {year}-03-")
    if approval is not None:
        text = APPROVAL.sub(approval, text)
    toml.write_text(text, encoding="utf-8")
    return d


def test_the_approval_is_read_with_the_study(tmp_path: Path) -> None:
    approval = load_study(folder(tmp_path)).ethics.approval
    assert approval is not None
    assert (approval.reference, approval.date) == ("REC-2026-014", date(2026, 1, 15))
    assert approval.board.startswith("Research Ethics Committee, Faculty of Economics")


def test_a_bad_approval_is_reported_at_its_line(tmp_path: Path) -> None:
    d = folder(tmp_path, '[ethics.approval]\nboard = "REC"\nreference = "R-1"\ndate = "soon"\n')
    with pytest.raises(StudyProblems) as e:
        load_study(d)
    [problem] = e.value.problems
    line = d.joinpath("study.toml").read_text(encoding="utf-8").splitlines().index('date = "soon"')
    assert (problem.file, problem.line) == ("study.toml", line + 1)
    assert "date must be the date of the approval, not 'soon'" in problem.message
    assert "e.g. 2026-01-15" in problem.message


def test_validate_warns_when_a_balanced_design_records_no_approval(tmp_path: Path) -> None:
    d = folder(tmp_path, "")
    assert approval_warning(load_study(d)) is not None
    code, out, err = invoke("validate", str(d))
    assert code == 0 and out.startswith(f"{d}: ok:")
    assert err == (
        "warning: study.toml: the design is balanced (an audit design: brands are written to "
        "by personas made for the study) but [ethics] records no approval; have the study "
        "approved by an ethics board before it starts and add [ethics.approval] with board, "
        "reference and date (docs/personas.md)\n"
    )


def test_validate_says_nothing_of_a_recorded_approval(tmp_path: Path) -> None:
    code, _, err = invoke("validate", str(folder(tmp_path)))
    assert (code, err) == (0, "")


def test_a_study_without_an_audit_design_needs_no_approval_recorded(tmp_path: Path) -> None:
    d = folder(tmp_path, "")
    toml = d / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('design = "balanced"', 'design = "by_country"'),
        encoding="utf-8",
    )
    assert approval_warning(load_study(d)) is None
