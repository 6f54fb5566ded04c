"""Errors a researcher can fix, as opposed to bugs (which stay tracebacks)."""

from __future__ import annotations

from dataclasses import dataclass


class StudyError(Exception):
    """A problem the researcher can fix. The message says where and how."""


class UsageError(StudyError):
    """A command line that can never work, whatever the study holds: an option's value out of
    its range or not in its format, options that need each other, an unknown name. The
    command line exits 2 for it (bad usage), and 1 for every other `StudyError`."""


@dataclass(frozen=True)
class Problem:
    """One problem found while checking a study folder: where it is and how to fix it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class StudyProblems(StudyError):
    """Several problems found at once; `str()` gives one line per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
