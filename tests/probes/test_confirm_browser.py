"""The confirmation page in a real browser: Chromium, driven by Playwright, presses Send."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from probes.confirm.queue import ConfirmationQueue, Decision
from probes.confirm.web import ConfirmPage
from study.clock import ManualClock
from tests.probes.test_confirm_person import HOSTILE, T, inquiry
from tests.system import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_a_person_presses_send_on_the_page(browser: Any) -> None:
    clock = ManualClock(T + timedelta(minutes=1))
    queue = ConfirmationQueue()
    queue.offer(inquiry("acorn-DE-x-r1", brand_name=HOSTILE))
    queue.offer(inquiry("acorn-DE-x-r2", minutes_left=10))
    queue.set_upcoming([inquiry("acorn-DE-x-r3")])
    page_server = ConfirmPage(queue, clock).start()
    problems: list[str] = []
    try:
        page = browser.new_page()
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"error: {e}"))
        page.goto(page_server.url)
        cards = page.locator("#due article.inquiry")
        expect(cards).to_have_count(2)
        # The slot that ends first is first, marked urgent.
        first, second = cards.nth(0), cards.nth(1)
        expect(first.locator(".probe")).to_have_text("acorn-DE-x-r2")
        expect(first).to_have_class("inquiry urgent")
        # Third-party text shows as text, never as markup.
        expect(second.locator(".brand")).to_have_text(f"({HOSTILE})")
        assert second.locator("script").count() == 0
        expect(second.locator(".account")).to_have_text("@replybenchprobe on x")
        expect(second.locator(".local")).to_have_text("Tue 10:01 CET (planned for Tue 10:00 CET)")
        expect(second.locator(".left")).to_have_text("59 min")
        expect(second.locator(".text")).to_have_text("@Acorn_DE Wo ist meine Bestellung?")
        expect(page.locator("#next tbody tr")).to_have_count(1)

        second.locator("button.send").click()
        expect(cards).to_have_count(1)  # the page refreshed: only the other one waits
        assert queue.take() == {"acorn-DE-x-r1": Decision.CONFIRM}
        expect(page.locator("#log li").first).to_contain_text("confirmed acorn-DE-x-r1")
        first.locator("button.skip").click()
        expect(page.locator("#due")).to_have_text("Nothing is due now.")
        assert queue.take() == {"acorn-DE-x-r2": Decision.SKIP}

        queue.running = False  # the runner finished: the page says so
        page.reload()
        expect(page.locator("#status")).to_contain_text("The runner has stopped")
    finally:
        page_server.stop()
    assert problems == []
