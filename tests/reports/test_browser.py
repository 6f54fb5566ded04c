"""The site in a real browser: Chromium, driven by Playwright, reads it from file://."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reports.conftest import Site
from tests.system import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


class Watched:
    """A page that records what should never happen: requests leaving the site, failed
    loads, console errors, dialogs (an alert would mean a script ran)."""

    def __init__(self, browser: Any, site: Site, width: int = 1200) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.problems: list[str] = []
        root = site.root.resolve().as_uri()
        self.page.on(
            "request",
            lambda r: None if r.url.startswith(root) else self.problems.append(f"left: {r.url}"),
        )
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"),
                                          d.dismiss()))  # fmt: skip

    def loaded_images(self) -> int:
        return int(
            self.page.evaluate(
                "[...document.images].filter(i => i.complete && i.naturalWidth > 0).length"
            )
        )


def test_index_and_a_company_page_work_from_file_urls(
    browser: Any, example_site: Site, tmp_path: Path
) -> None:
    w = Watched(browser, example_site)
    page = w.page
    page.goto((example_site.root / "index.html").as_uri())
    ranking = page.locator("#ranking table")
    assert ranking.is_visible()
    assert ranking.locator("tbody tr").count() == 10
    chart = page.locator('img[src="charts/index-rates.svg"]')
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    assert chart.evaluate("i => i.naturalWidth") > 0
    assert w.loaded_images() == page.locator("img").count() == 3
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)

    first = ranking.locator("tbody tr").first.locator("a")
    name = first.inner_text()
    first.click()
    page.wait_for_load_state()
    assert page.url.endswith(".html") and "/companies/" in page.url
    assert page.locator("h1").inner_text() == name
    curve = page.locator("#speed img")
    curve.scroll_into_view_if_needed()
    assert curve.is_visible() and curve.evaluate("i => i.naturalWidth") > 0
    assert page.locator("#countries table tbody tr").count() == 17
    page.screenshot(path=str(tmp_path / "company.png"), full_page=True)

    page.locator("#countries table a").first.click()
    page.wait_for_load_state()
    assert "/countries/" in page.url
    assert page.locator("#brands table").is_visible()
    page.get_by_role("link", name="Method").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("methodology.html")
    assert page.locator("#definitions").is_visible()
    page.screenshot(path=str(tmp_path / "methodology.png"), full_page=True)
    assert w.problems == []


def test_hostile_pages_run_no_script_and_fit_a_phone(
    browser: Any, hostile_site: Site, tmp_path: Path
) -> None:
    w = Watched(browser, hostile_site, width=390)
    for html in sorted(hostile_site.root.rglob("*.html")):
        w.page.goto(html.as_uri())
        w.page.wait_for_load_state()
        assert w.page.evaluate("document.scripts.length") == 0
        overflow = w.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, html  # wide tables scroll inside their own box
    w.page.goto((hostile_site.root / "index.html").as_uri())
    assert "<script>alert(1)</script> & Co" in w.page.locator("h1").inner_text()
    w.page.screenshot(path=str(tmp_path / "hostile-phone.png"), full_page=True)
    assert w.problems == []


def test_the_example_fits_a_phone(browser: Any, example_site: Site, tmp_path: Path) -> None:
    w = Watched(browser, example_site, width=390)
    for name in ("index.html", "companies/kaito.html", "countries/de.html", "methodology.html"):
        w.page.goto((example_site.root / name).as_uri())
        overflow = w.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, name
    w.page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    assert w.problems == []


def test_pages_print_without_the_navigation(browser: Any, example_site: Site) -> None:
    w = Watched(browser, example_site)
    w.page.goto((example_site.root / "companies" / "kaito.html").as_uri())
    w.page.emulate_media(media="print")
    assert not w.page.locator("header.site nav").is_visible()
    assert w.page.locator("h1").is_visible()
    assert w.page.pdf()[:4] == b"%PDF"
