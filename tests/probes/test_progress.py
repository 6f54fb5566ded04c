"""Progress: the live bar on a terminal; one timestamped line per event anywhere else."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from probes.progress import CampaignProgress, PlainLog, campaign_display
from tests.e2e.studies import short_study
from tests.e2e.test_campaign import campaign

pytestmark = pytest.mark.anyio

LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.+)")


def test_a_terminal_gets_the_bar_and_a_file_the_plain_log() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert isinstance(campaign_display(terminal), CampaignProgress)
    assert isinstance(campaign_display(Console(file=io.StringIO())), PlainLog)


async def test_the_plain_log_has_one_line_per_event_in_clock_order(tmp_path: Path) -> None:
    out = io.StringIO()
    log = PlainLog(out)
    await campaign(short_study(tmp_path / "s", brands=2), on_event=log.event)
    lines = out.getvalue().splitlines()
    parsed = [LINE.fullmatch(line) for line in lines]
    assert lines and all(parsed), lines
    stamps = [m[1] for m in parsed if m]
    assert stamps == sorted(stamps)  # the campaign clock's time, never going back
    texts = [m[2] for m in parsed if m]
    assert sorted(t for t in texts if t.startswith("sent ")) == sorted(
        f"sent {b}-{c}-x-r1" for b in ("acorn", "birch") for c in ("DE", "US")
    )
    assert any(re.fullmatch(r"x: \d+ new repl(y|ies)", t) for t in texts)
    assert any(re.fullmatch(r"x: closed \d+ window\(s\)", t) for t in texts)
