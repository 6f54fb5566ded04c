"""Text from outside (brand names, handles, countries, inquiries, replies) shows as text."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.site_folder import MANIFEST
from tests.reports.conftest import Site, build
from tests.reports.studies import HOSTILE, KINDS, SLOTS, T0, Row, write_journal

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"
TAGS = {
    "html", "head", "meta", "title", "link", "body", "a", "header", "p", "nav", "ul", "li",
    "main", "h1", "h2", "h3", "section", "dl", "div", "dt", "dd", "span", "table", "caption",
    "thead", "tbody", "tr", "th", "td", "figure", "figcaption", "img", "footer", "article",
    "blockquote", "code", "em", "var", "sup",
}  # fmt: skip


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def pages(site: Site) -> list[Path]:
    return sorted(site.root.rglob("*.html"))


@pytest.mark.parametrize("which", ["hostile_site", "named_site"])
def test_hostile_names_and_replies_render_as_text(which: str, request: pytest.FixtureRequest):
    site: Site = request.getfixturevalue(which)
    for page in pages(site):
        html = page.read_text(encoding="utf-8")
        assert HOSTILE not in html, page
        assert "<script" not in html.lower(), page
        parser = Tags()
        parser.feed(html)
        assert parser.tags <= TAGS, (page, parser.tags - TAGS)
        assert parser.handlers == [], page
    assert ESCAPED in site.page("index.html")


def test_hostile_replies_and_inquiries_are_shown_escaped(hostile_site: Site) -> None:
    [page] = [p for p in (hostile_site.root / "companies").iterdir() if "script" in p.name]
    html = page.read_text(encoding="utf-8")
    assert f"<h1>{ESCAPED}</h1>" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;&lt;/blockquote&gt;" in html
    assert "where is &lt;u&gt;my order&lt;/u&gt;?" in html
    assert "@&lt;i&gt;h0&lt;/i&gt;" in html  # the handle


def test_charts_hold_names_as_escaped_text(hostile_site: Site) -> None:
    charts = sorted((hostile_site.root / "charts").glob("*.svg"))
    assert charts
    for chart in charts:
        svg = chart.read_text(encoding="utf-8")
        assert "<script" not in svg and "onerror" not in svg.replace("onerror=&quot;", "")
    rates = (hostile_site.root / "charts" / "index-rates.svg").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in rates
    assert "$x^2$ \\ Ltd" in rates  # no mathtext: the label as written


def test_file_names_stay_inside_the_site(hostile_site: Site) -> None:
    root = hostile_site.root.resolve()
    for path in root.rglob("*"):
        assert path.resolve().is_relative_to(root)
        assert re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", path.name) or path.name == MANIFEST, path
    names = sorted(p.name for p in (root / "companies").iterdir())
    assert len(names) == 5  # '../../etc/passwd', 'Kaito' and 'kaito' each get their own
    assert any(n.startswith("etc-passwd-") for n in names)
    assert {"kaito.html"} < set(names)
    assert sorted(p.name for p in hostile_site.root.parent.iterdir()) == ["site", "study"]


# The direction controls of UAX #9 and a control character: none may reach a page or chart.
UNSHOWN = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
           "\u2069", "\x1b"]  # fmt: skip


def test_direction_controls_from_a_journal_reach_no_page(tmp_path: Path) -> None:
    """A journal written before names were checked: its brand name, handle and reply text
    carry direction controls, shown as U+FFFD (text, still escaped)."""
    brand = "kaito\u202eevil"
    rows = [
        Row(f"p{k}", brand, "DE", "kaito\u202ehelp", "local", SLOTS[k], T0 + timedelta(hours=k),
            "Where is my order?", reply_after=1.0 + k, kind=KINDS[k],
            reply="Hi \u2066<b>\u2067ok\u2068</b>\u2069 \x1b[2J & thanks")
        for k in range(2)
    ]  # fmt: skip
    write_journal(tmp_path / "study", rows, name="Study of \u202dkaito")
    site = build(tmp_path / "study", tmp_path / "site")
    files = [*pages(site), *sorted((site.root / "charts").glob("*.svg"))]
    assert len(files) > 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not [c for c in UNSHOWN if c in text], path
    [company] = (site.root / "companies").iterdir()
    html = company.read_text(encoding="utf-8")
    assert "kaito\ufffdevil" in html and "@kaito\ufffdhelp" in html
    assert "Hi \ufffd&lt;b&gt;\ufffdok\ufffd&lt;/b&gt;\ufffd \ufffd[2J &amp; thanks" in html
