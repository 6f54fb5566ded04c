"""An ethics board's approval of the study, as study.toml records it (docs/personas.md):

```toml
[ethics.approval]
board = "Research Ethics Committee, Faculty of Economics, University of Example"
reference = "REC-2026-014"
date = 2026-01-15
```

An audit design (`[assignment] design = "balanced"`) writes to brands from personas made for
the study, which is deception however mild, and needs a board's approval before it starts;
`validate` warns when such a study records none. The method page shows the approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from study.load_channels import Rule, is_text

if TYPE_CHECKING:
    from study.model import Study

TABLE = "approval"  # [ethics.approval]
_RULES = {
    "board": Rule(
        "the name of the board that approved the study",
        'e.g. "Research Ethics Committee, University of Example"',
        is_text,
    ),
    "reference": Rule("the board's reference", 'e.g. "REC-2026-014"', is_text),
    "date": Rule(
        "the date of the approval",
        "write it as a TOML date without quotes, e.g. 2026-01-15",
        lambda v: isinstance(v, date) and not isinstance(v, datetime),
    ),
}


@dataclass(frozen=True)
class Approval:
    """Which board approved the study, under which reference, when."""

    board: str
    reference: str
    date: date

    def describe(self) -> str:
        return f"approved by {self.board} (reference {self.reference}) on {self.date.isoformat()}"


class Checker(Protocol):
    """What `study.load` offers to report a problem at a key's line of study.toml."""

    def problem(self, path: tuple[str, ...], message: str) -> None: ...

    def keys(
        self, table: dict[str, Any], path: tuple[str, ...], rules: dict[str, Rule]
    ) -> dict[str, Any] | None: ...


def read_approval(ethics: dict[str, Any], check: Checker) -> tuple[Approval | None, bool]:
    """The approval in the `[ethics]` table (None when absent) and whether it is sound
    (a problem is reported to `check`)."""
    table = ethics.get(TABLE)
    if table is None:
        return None, True
    path = ("ethics", TABLE)
    if not isinstance(table, dict):
        check.problem(path, "ethics.approval must be a table; write [ethics.approval]")
        return None, False
    values = check.keys(table, path, _RULES)
    if values is None:
        return None, False
    return Approval(values["board"].strip(), values["reference"].strip(), values["date"]), True


def approval_warning(study: Study) -> str | None:
    """A warning for a study whose audit design records no ethics board's approval."""
    from study.personas import BALANCED

    if study.assignment is None or study.assignment.design != BALANCED:
        return None
    if study.ethics.approval is not None:
        return None
    return (
        "warning: study.toml: the design is balanced (an audit design: brands are written to "
        "by personas made for the study) but [ethics] records no approval; have the study "
        "approved by an ethics board before it starts and add [ethics.approval] with board, "
        "reference and date (docs/personas.md)"
    )
