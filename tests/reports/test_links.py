"""Every page's links and images point inside the site at files (and ids) that exist, and
every page can be reached from the index."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.reports.conftest import Site


class Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.refs.append(value)
            if name == "id" and value:
                self.ids.add(value)


def parse(path: Path) -> Refs:
    refs = Refs()
    refs.feed(path.read_text(encoding="utf-8"))
    return refs


@pytest.mark.parametrize("which", ["example_site", "hostile_site", "multichannel_site"])
def test_no_link_is_broken_or_leaves_the_site(which: str, request: pytest.FixtureRequest):
    site: Site = request.getfixturevalue(which)
    root = site.root.resolve()
    pages = {p.resolve(): parse(p) for p in root.rglob("*.html")}
    reached, todo = set(), [root / "index.html"]
    for page, refs in pages.items():
        assert refs.refs, page
        for ref in refs.refs:
            parts = urlsplit(ref)
            assert not parts.scheme and not parts.netloc and not ref.startswith("/"), ref
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_relative_to(root), (page, ref)
            assert target.is_file(), (page, ref)
            if parts.fragment:
                assert parts.fragment in pages[target].ids, (page, ref)
    while todo:
        page = todo.pop()
        if page in reached:
            continue
        reached.add(page)
        for ref in pages[page].refs:
            path = urlsplit(ref).path
            target = (page.parent / unquote(path)).resolve() if path else page
            if target.suffix == ".html":
                todo.append(target)
    assert reached == set(pages)


def test_the_stylesheet_and_charts_fetch_nothing(example_site: Site) -> None:
    css = (example_site.root / "static" / "style.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css
    for svg in (example_site.root / "charts").glob("*.svg"):
        text = svg.read_text(encoding="utf-8")
        assert 'href="http' not in text and "<image" not in text, svg


def test_every_page_links_the_data_and_the_method(example_site: Site) -> None:
    for page in example_site.root.rglob("*.html"):
        refs = parse(page).refs
        prefix = "" if page.parent == example_site.root else "../"
        for name in ("outcomes.csv", "metrics.json", "design.json", "targets.csv"):
            assert f"{prefix}data/{name}" in refs, (page, name)
        assert f"{prefix}methodology.html" in refs
