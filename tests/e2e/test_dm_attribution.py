"""A brand's one global account asked from several countries, answering by redirect and DM:
the journal must tie every DM to the probe the simulator's ledger says it answers.

Each brand has one global Mastodon account and one global X account, asked from Germany,
Japan and the US in the same week, so their 72-hour windows overlap; the bots ask most
probes to move to DMs and follow up by DM many hours later, when the account's other
probes have been sent. A matcher that gave a DM to the brand's probe most recently sent
before it credits German DMs to the US probe (issue 9). The run is driven by the test's
clock (the simulator's virtual time moves only when the runner sleeps): nothing here depends
on the machine's speed.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from probes.campaign import run_campaign
from probes.runner import RunnerConfig
from probes.sim.ledger import read_ledger
from study.journal.schema import AMBIGUOUS_EVENT
from study.journal.status import read_status
from study.load import load_study
from study.paths import journal_path, ledger_path
from study.plan import make_plan
from study.plan_windows import overlapping_windows
from study.timeutil import parse_iso
from tests.e2e.ledger_truth import first_answers, journal_answers, ledger_answers
from tests.e2e.multichannel import SharedClock, last_observation, serve_on
from tests.e2e.studies import global_accounts_study

pytestmark = pytest.mark.anyio
CONFIG = RunnerConfig(poll_min_s=300, poll_max_s=3600, reconcile_after_real_s=0)


def read_journal(d: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{journal_path(d)}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


def dms_with_another_probe_open(d: Path, con: sqlite3.Connection) -> int:
    """Brand DMs (ledger) written inside their probe's window while another probe to the
    same account was open too: the DMs a matcher by time alone could give to the wrong
    probe."""
    rows = con.execute("SELECT channel, handle, message_id, sent_at, closes_at FROM probes")
    windows = {
        (str(r[0]), str(r[2])): (str(r[1]).lower(), parse_iso(r[3]), parse_iso(r[4])) for r in rows
    }
    n = 0
    for e in read_ledger(ledger_path(d)):
        if e.get("role") != "brand" or e.get("reply_kind") != "direct_message":
            continue
        channel, at = str(e.get("channel") or "x"), parse_iso(str(e["created_at"]))
        handle, sent, closes = windows[(channel, str(e["probe_post_id"]))]
        if sent <= at < closes and any(
            ch == channel and h == handle and mid != e["probe_post_id"] and s <= at < c
            for (ch, mid), (h, s, c) in windows.items()
        ):
            n += 1
    return n


@pytest.mark.parametrize(
    ("window_hours", "separate"),
    [(72, False), (36, True)],
    ids=["windows-overlap", "separate-windows"],
)
async def test_every_dm_is_credited_to_the_probe_the_ledger_says_it_answers(
    tmp_path: Path, window_hours: int, separate: bool
) -> None:
    """With overlapping windows, the ties of docs/channels.md settle every DM; with
    `separate_windows` (and a window short enough for the week) no DM has a rival probe."""
    d = global_accounts_study(
        tmp_path / "global", window_hours=window_hours, separate_windows=separate
    )
    plan = make_plan(load_study(d))
    assert bool(overlapping_windows(plan, window_hours)) is not separate
    clock = SharedClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    sim = serve_on(d, clock)
    try:
        summary = await run_campaign(d, api_base=sim.url, env={}, clock=clock, config=CONFIG)
    finally:
        sim.stop()
    assert summary.counts == {"closed": len(plan)}
    con = read_journal(d)
    try:
        last_read = last_observation(con)
        # The study exercises what it is about: DMs while other probes of the account are
        # open, or none at all when the plan kept the account's windows apart.
        rivals = dms_with_another_probe_open(d, con)
        assert rivals == 0 if separate else rivals >= 10
        truth = ledger_answers(d, con, last_read)
        seen = journal_answers(con)
        wrong = {
            p: (sorted(seen.get(p, set()) - items), sorted(items - seen.get(p, set())))
            for p, items in truth.items()
            if seen.get(p, set()) != items
        }
        extra = {p: sorted(items) for p, items in seen.items() if p not in truth}
        assert not wrong and not extra, (list(wrong.items())[:3], list(extra.items())[:3])

        # The numbers a reader sees: each probe's first response, in the journal as in truth.
        replies = con.execute("SELECT channel, reply_id, created_at, kind FROM replies")
        created: dict[str, datetime] = {}
        kinds: dict[str, str] = {}
        for r in replies:
            key = f"{r['channel']}:{r['reply_id']}"
            created[key], kinds[key] = parse_iso(r["created_at"]), str(r["kind"])
        assert first_answers(seen, created, kinds) == first_answers(truth, created, kinds)

        # Nothing was guessed: every brand DM the runner left unmatched was counted.
        unmatched_dms = con.execute(
            "SELECT count(*) FROM replies WHERE probe_id IS NULL AND kind = 'direct_message'"
        ).fetchone()[0]
        events = con.execute("SELECT count(*) FROM events WHERE kind = ?", (AMBIGUOUS_EVENT,))
        assert unmatched_dms == events.fetchone()[0] == read_status(d).ambiguous_dms
        # And a reply is never seen before it was written.
        early = con.execute("SELECT count(*) FROM replies WHERE seen_at < created_at")
        assert early.fetchone()[0] == 0
    finally:
        con.close()
