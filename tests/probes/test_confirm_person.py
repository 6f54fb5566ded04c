"""Where a person confirms: the terminal prompt and the local page's server (its browser side
is tests/probes/test_confirm_browser.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from probes.confirm.queue import ConfirmationQueue, Decision, Inquiry
from probes.confirm.terminal import TerminalPrompt, printable
from probes.confirm.web import ConfirmPage
from study.clock import ManualClock
from study.timeutil import parse_iso

T = parse_iso("2026-03-03T09:00:00Z")
HOSTILE = "<script>alert(1)</script> & Co\x1b[2J\u202e"


def inquiry(probe_id: str, minutes_left: float = 60, brand_name: str = "Acorn Co") -> Inquiry:
    return Inquiry(probe_id, "x", "replybenchprobe", "acorn", brand_name, "Acorn_DE", "DE",
                   "Germany", "Europe/Berlin", "@Acorn_DE Wo ist meine Bestellung?", T,
                   T + timedelta(minutes=minutes_left))  # fmt: skip


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T + timedelta(minutes=1))


def test_the_prompt_shows_each_inquiry_and_sends_it_on_yes(clock: ManualClock) -> None:
    queue, out = ConfirmationQueue(), io.StringIO()
    prompt = TerminalPrompt(queue, clock, io.StringIO(), out.write)
    queue.offer(inquiry("p2", minutes_left=90, brand_name=HOSTILE))
    queue.offer(inquiry("p1", minutes_left=30))
    shown = out.getvalue()
    assert "due: p2" in shown  # the first offered shows at once
    lines = shown.splitlines()
    assert lines[2:5] == [
        "  to     @Acorn_DE (<script>alert(1)</script> & Co\ufffd[2J\ufffd, Germany) on x",
        "  from   @replybenchprobe",
        "  local  Tue 10:01 CET (planned for Tue 10:00 CET); its slot ends in 1 h 29 min",
    ]
    assert "\x1b" not in shown and "\u202e" not in shown
    prompt.answer("y\n")
    assert queue.take() == {"p2": Decision.CONFIRM}
    assert "confirmed p2" in out.getvalue()
    assert "due: p1" in out.getvalue() and "its slot ends in 29 min\n" in out.getvalue()
    assert out.getvalue().endswith("send it? [y]es / [s]kip / [Enter] show again: ")
    prompt.answer("maybe\n")
    assert "answer y (send it), s (skip it) or press Enter" in out.getvalue()
    prompt.answer("s\n")
    assert queue.take() == {"p1": Decision.SKIP}
    assert out.getvalue().endswith("nothing waits for a decision\n")


def test_the_prompt_reads_answers_from_its_input_on_its_own_thread(clock: ManualClock) -> None:
    queue, out = ConfirmationQueue(), io.StringIO()
    queue.offer(inquiry("p1"))
    queue.offer(inquiry("p2"))
    prompt = TerminalPrompt(queue, clock, io.StringIO("\ny\ns\n"), out.write)
    prompt.start().join(timeout=60)
    assert queue.take() == {"p1": Decision.CONFIRM, "p2": Decision.SKIP}


def test_printable_keeps_text_on_one_line_without_controls() -> None:
    assert printable("a\nb\tc \x07d\u200fe") == "a b c \ufffdd\ufffde"


@pytest.fixture
def page(clock: ManualClock) -> Iterator[ConfirmPage]:
    served = ConfirmPage(ConfirmationQueue(), clock).start()
    yield served
    served.stop()


def test_the_page_answers_only_under_its_token_and_host(page: ConfirmPage) -> None:
    page.queue.offer(inquiry("p1"))
    with httpx.Client(timeout=30) as c:
        assert c.get(page.url).status_code == 200
        assert "default-src 'none'" in c.get(page.url).headers["content-security-policy"]
        state = c.get(page.url + "state").json()
        assert [i["probe_id"] for i in state["waiting"]] == ["p1"]
        assert state["waiting"][0]["seconds_left"] == 59 * 60
        root = f"http://127.0.0.1:{page.port}/"
        for wrong in (root, root + "state", root + "x" * 32 + "/state", page.url + "nothing"):
            assert c.get(wrong).status_code == 404, wrong
        assert page.token not in c.get(root).text
        # A name that a page elsewhere rebound to 127.0.0.1 is refused.
        assert c.get(page.url + "state", headers={"Host": "evil.example"}).status_code == 404


def test_a_decision_must_come_as_json_from_the_page_itself(page: ConfirmPage) -> None:
    page.queue.offer(inquiry("p1"))
    body = json.dumps({"probe_id": "p1", "decision": "confirm"})
    with httpx.Client(timeout=30) as c:
        form = c.post(page.url + "decide", data={"probe_id": "p1", "decision": "confirm"})
        assert form.status_code == 415
        other = c.post(page.url + "decide", content=body, headers={
            "Content-Type": "application/json", "Origin": "https://evil.example"})  # fmt: skip
        assert other.status_code == 403
        assert page.queue.take() == {}
        bad = c.post(page.url + "decide", content=b'{"probe_id": "p1", "decision": "maybe"}',
                     headers={"Content-Type": "application/json"})  # fmt: skip
        assert bad.status_code == 400
        ok = c.post(page.url + "decide", content=body,
                    headers={"Content-Type": "application/json"})  # fmt: skip
        assert ok.json() == {"ok": True, "message": "confirm: p1"}
        again = c.post(page.url + "decide", content=body,
                       headers={"Content-Type": "application/json"})  # fmt: skip
        assert again.status_code == 409
    assert page.queue.take() == {"p1": Decision.CONFIRM}
