"""The same data give the same site, byte for byte, however it is rendered."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.publish import publish_data
from reports import render
from reports.render import render_site
from tests.reports.conftest import Site


def contents(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_two_renders_give_the_same_bytes_in_every_file(example_site: Site, tmp_path: Path):
    again = render_site(example_site.root / "data", tmp_path / "again", example_site.study)
    first, second = contents(example_site.root), contents(again.parent)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    assert len([n for n in first if n.endswith(".html")]) == 1 + 1 + 10 + 17
    assert len([n for n in first if n.endswith(".svg")]) == 3 + 17 + 2 * 10


def test_worker_processes_draw_the_same_site(
    example_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "PARALLEL_FROM", 1)
    render_site(example_site.data, tmp_path / "pooled", example_site.study, workers=2)
    assert contents(tmp_path / "pooled") == contents(example_site.root)


def test_publishing_twice_gives_the_same_data(example_site: Site, tmp_path: Path) -> None:
    paths = publish_data(example_site.study, tmp_path / "data")
    assert [p.name for p in paths] == [p.name for p in example_site.data]
    for mine, theirs in zip(paths, example_site.data, strict=True):
        assert mine.read_bytes() == theirs.read_bytes(), mine.name


def test_the_site_carries_no_wall_clock_time(example_site: Site) -> None:
    for path in example_site.root.rglob("*.svg"):
        assert b"<dc:date>" not in path.read_bytes()
    assert "2026-03-" in example_site.page("index.html")  # the data's own as-of time
