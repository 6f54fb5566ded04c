"""Files are written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from study.atomic import write_atomic


def test_bytes_and_text_replace_the_file_and_leave_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "out.json"
    write_atomic(path, b"first")
    write_atomic(path, "zweite \u00e9tape")
    assert path.read_text(encoding="utf-8") == "zweite \u00e9tape"
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.csv"
    write_atomic(path, b"old")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
