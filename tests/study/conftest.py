"""A fresh `replybench init` study in tmp_path, and small tools to break it one thing at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from study.load import find_problems
from study.scaffold import init_study


class StudyFolder:
    """A scaffolded study folder that a test edits, then checks."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def text(self, name: str) -> str:
        return (self.path / name).read_text(encoding="utf-8")

    def write(self, name: str, text: str) -> None:
        (self.path / name).write_text(text, encoding="utf-8")

    def edit(self, name: str, old: str, new: str) -> None:
        """Replace the one occurrence of `old` in the file `name` by `new`."""
        text = self.text(name)
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {name}"
        self.write(name, text.replace(old, new))

    def append(self, name: str, text: str) -> None:
        self.write(name, self.text(name) + text)

    def line_of(self, name: str, needle: str) -> int:
        """The 1-based number of the one line of `name` that contains `needle`."""
        lines = [n for n, line in enumerate(self.text(name).splitlines(), 1) if needle in line]
        assert len(lines) == 1, f"{needle!r} is on lines {lines} of {name}"
        return lines[0]

    def lines(self, name: str) -> int:
        return len(self.text(name).splitlines())

    def problems(self) -> list[str]:
        study, problems = find_problems(self.path)
        assert (study is None) == bool(problems)
        return [str(p) for p in problems]


@pytest.fixture
def folder(tmp_path: Path) -> StudyFolder:
    path = tmp_path / "study"
    init_study(path)
    return StudyFolder(path)
