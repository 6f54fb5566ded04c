"""The journal's send protocol and its reads from another connection."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from probes.channels.base import Reply, Sent
from replybench.cli import app
from study.errors import StudyError
from study.journal.campaign import Journal
from study.journal.status import read_status
from study.model import PlannedProbe, ProbeState, ReplyKind, Scope
from study.paths import journal_path

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)


def probe(n: int, brand: str = "kaito") -> PlannedProbe:
    at = T0 + timedelta(hours=n)
    return PlannedProbe(
        probe_id=f"{brand}-DE-x-r{n}",
        brand=brand,
        country="DE",
        channel="x",
        handle=f"{brand}_de",
        scope=Scope.LOCAL,
        script="delivery",
        slot="business",
        round=n,
        text=f"@{brand}_de Hallo {n}",
        scheduled_at=at,
        slot_start_at=at - timedelta(hours=1),
        slot_end_at=at + timedelta(hours=2),
    )


PLAN = [probe(1), probe(2), probe(3, "brenner")]


def open_journal(tmp_path: Path, plan: list[PlannedProbe] = PLAN) -> Journal:
    return Journal.create_or_open(tmp_path, plan, study_name="t", window_hours=72, now=T0)


def test_a_new_journal_holds_the_plan_as_planned_probes(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    assert j.counts() == {"planned": 3}
    assert [p.probe_id for p in j.due(T0 + timedelta(hours=2))] == [
        "kaito-DE-x-r1",
        "kaito-DE-x-r2",
    ]
    assert j.next_send_at() == T0 + timedelta(hours=1)
    assert j.probe("kaito-DE-x-r1") == PLAN[0]


def test_reopening_with_another_plan_is_refused(tmp_path: Path) -> None:
    open_journal(tmp_path).close()
    with pytest.raises(StudyError, match="different plan"):
        open_journal(tmp_path, PLAN[:2])
    open_journal(tmp_path).close()  # the same plan opens again


def test_a_send_is_committed_as_sending_before_the_request(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    attempt = j.begin_attempt("kaito-DE-x-r1", T0)
    # Another process (a crash here) sees the probe as sending, with a pending attempt.
    other = sqlite3.connect(journal_path(tmp_path))
    assert other.execute(
        "SELECT state FROM probes WHERE probe_id = 'kaito-DE-x-r1'"
    ).fetchone() == ("sending",)
    assert other.execute("SELECT outcome FROM attempts").fetchall() == [("pending",)]
    with pytest.raises(RuntimeError):
        j.begin_attempt("kaito-DE-x-r1", T0)  # never two attempts in flight
    j.record_sent(attempt, Sent("kaito-DE-x-r1", "1001", T0), WINDOW)
    row = other.execute(
        "SELECT state, message_id, sent_at, closes_at FROM probes WHERE probe_id='kaito-DE-x-r1'"
    ).fetchone()
    assert row == ("sent", "1001", "2026-03-02T09:00:00.000Z", "2026-03-05T09:00:00.000Z")
    assert other.execute("SELECT outcome FROM attempts").fetchall() == [("acknowledged",)]


def test_unknown_outcome_then_reconciled_closes_every_open_attempt(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    a = j.begin_attempt("kaito-DE-x-r1", T0)
    j.record_unknown(a, T0, "timeout")
    assert [p.probe_id for p in j.probes_in(ProbeState.SENDING)] == ["kaito-DE-x-r1"]
    j.record_sent(None, Sent("kaito-DE-x-r1", "77", T0), WINDOW, outcome="reconciled")
    outcomes = j.con.execute("SELECT outcome, detail FROM attempts").fetchall()
    assert [tuple(r) for r in outcomes] == [("reconciled", "77")]
    assert j.counts() == {"planned": 2, "sent": 1}


def test_a_failed_send_returns_to_planned_with_a_retry_time(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    a = j.begin_attempt("kaito-DE-x-r1", T0 + timedelta(hours=1))
    j.record_retry(a, "kaito-DE-x-r1", T0, T0 + timedelta(hours=5), "503")
    due = [p.probe_id for p in j.due(T0 + timedelta(hours=4))]
    assert due == ["kaito-DE-x-r2", "brenner-DE-x-r3"]  # r1 waits for its retry time
    assert [p.probe_id for p in j.due(T0 + timedelta(hours=5))][0] == "kaito-DE-x-r1"
    assert j.next_send_at() == T0 + timedelta(hours=2)


def test_missed_and_failed_probes_are_final(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    assert j.overdue(T0 + timedelta(hours=3)) == ["kaito-DE-x-r1"]  # its slot ended at +3h
    j.record_missed(j.overdue(T0 + timedelta(hours=3)), T0 + timedelta(hours=3))
    a = j.begin_attempt("kaito-DE-x-r2", T0)
    j.record_failed(a, "kaito-DE-x-r2", T0, "400 invalid text")
    assert j.counts() == {"missed": 1, "failed": 1, "planned": 1}


def reply(rid: str, at: datetime, to: str | None = "1001") -> Reply:
    return Reply(rid, "x", "kaito_de", "9", "Gern!", at, ReplyKind.PUBLIC_REPLY, to, to)


def test_replies_and_cursor_are_stored_together_and_deduplicated(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    a = j.begin_attempt("kaito-DE-x-r1", T0)
    j.record_sent(a, Sent("kaito-DE-x-r1", "1001", T0), WINDOW)
    at = T0 + timedelta(hours=2)
    assert j.record_inbox("x", [(reply("5", at), "kaito-DE-x-r1")], {"since": "5"}, at) == 1
    assert j.record_inbox("x", [(reply("5", at), "kaito-DE-x-r1")], {"since": "5"}, at) == 0
    assert j.cursor("x") == {"since": "5"}
    assert j.answered_count() == 1
    assert j.close_windows("x", T0 + WINDOW - timedelta(seconds=1)) == 0
    assert j.close_windows("x", T0 + WINDOW) == 1
    assert j.counts()["closed"] == 1


def test_a_dm_that_fits_several_probes_is_stored_unmatched_and_counted_once(
    tmp_path: Path,
) -> None:
    j = open_journal(tmp_path)
    at = T0 + timedelta(hours=2)
    dm = Reply("7", "x", "kaito_de", "9", "Danke!", at, ReplyKind.DIRECT_MESSAGE, None, "9-1")
    fits = {"7": ("kaito-DE-x-r1", "kaito-DE-x-r2")}
    seen = at + timedelta(seconds=3)
    for _ in range(2):  # read twice (a crash before the cursor moved): stored and counted once
        j.record_inbox("x", [(dm, None)], {}, at, seen_at=seen, ambiguous=fits)
    row = j.con.execute("SELECT probe_id, seen_at FROM replies WHERE reply_id = '7'").fetchone()
    assert tuple(row) == (None, "2026-03-02T11:00:03.000Z")
    assert j.replies() == [(dm, None)]
    s = read_status(tmp_path)
    assert (s.unmatched_replies, s.ambiguous_dms) == (1, 1)
    out = CliRunner().invoke(app, ["status", str(tmp_path)]).stdout
    assert "replies seen: 1 (1 unmatched, 1 of them DMs that fit several probes)" in out
    j.close()


def test_status_reads_from_another_process_while_the_writer_is_open(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    a = j.begin_attempt("kaito-DE-x-r1", T0)
    j.record_unknown(a, T0, "timeout")
    s = read_status(tmp_path)
    assert s.states == {"planned": 2, "sending": 1}
    assert s.unknown_outcomes == 1 and s.attempts == 1
    assert s.study == "t" and s.window_hours == 72.0
    assert s.running_pid is None and s.inbox_reads == {}
    j.record_inbox("x", [], {}, T0 + timedelta(hours=5))
    j.record_inbox("mastodon", [], {}, T0 + timedelta(hours=1, minutes=30))
    assert read_status(tmp_path).inbox_reads == {
        "mastodon": "2026-03-02T10:30:00.000Z",
        "x": "2026-03-02T14:00:00.000Z",
    }
    out = CliRunner().invoke(app, ["status", str(tmp_path)]).stdout
    assert out.splitlines()[-1] == (
        "inbox reads: mastodon 2026-03-02T10:30:00.000Z (3.5 h behind), x 2026-03-02T14:00:00.000Z"
    )
    j.close()


def test_a_journal_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    journal_path(tmp_path).parent.mkdir(parents=True)
    journal_path(tmp_path).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StudyError, match=r"journal.sqlite: not a readable journal"):
        open_journal(tmp_path)
    with pytest.raises(StudyError, match=r"journal.sqlite: not a readable journal"):
        read_status(tmp_path)


def test_a_campaign_never_writes_into_a_journal_of_imported_data(tmp_path: Path) -> None:
    from analysis.imports import import_csv

    csv = tmp_path / "hand.csv"
    csv.write_text(
        "brand,country,channel,sent_at,replied_at\n"
        "kaito,DE,x,2026-03-02T09:00:00+01:00,2026-03-02T11:30:00+01:00\n",
        encoding="utf-8",
    )
    import_csv(tmp_path, csv, window_hours=72)
    before = journal_path(tmp_path).read_bytes()
    with pytest.raises(StudyError, match=r"holds imported data \(source = import\)"):
        open_journal(tmp_path)
    assert journal_path(tmp_path).read_bytes() == before


def test_a_retry_time_is_stored_rounded_up_never_down(tmp_path: Path) -> None:
    """A rate limit resetting at .0004 s must not wake the runner at .000 s (a busy loop)."""
    j = open_journal(tmp_path)
    a = j.begin_attempt("kaito-DE-x-r1", T0)
    reset = T0 + timedelta(hours=5, microseconds=400)
    j.record_retry(a, "kaito-DE-x-r1", T0, reset, "429")
    stored = j.con.execute(
        "SELECT retry_at FROM probes WHERE probe_id = 'kaito-DE-x-r1'"
    ).fetchone()[0]
    assert stored == "2026-03-02T14:00:00.001Z"
    assert "kaito-DE-x-r1" not in [p.probe_id for p in j.due(reset)]
    assert "kaito-DE-x-r1" in [p.probe_id for p in j.due(reset + timedelta(microseconds=600))]


def test_the_run_logs_answered_counts_the_brands_replies_as_they_come(tmp_path: Path) -> None:
    """Issue 9: the run log counted a stranger's reply; and the count, kept between inbox
    reads for the progress display, moves on when new replies are stored."""
    j = open_journal(tmp_path)
    a = j.begin_attempt("kaito-DE-x-r1", T0)
    j.record_sent(a, Sent("kaito-DE-x-r1", "1001", T0), WINDOW)
    at = T0 + timedelta(hours=1)
    stranger = Reply("6", "x", "maria_k_83", "7", "Me too", at, ReplyKind.PUBLIC_REPLY, "1001", "1")
    j.record_inbox("x", [(stranger, "kaito-DE-x-r1")], {}, at)
    assert j.answered_count() == 0
    j.record_inbox("x", [], {}, at + timedelta(hours=1))
    assert j.answered_count() == 0
    j.record_inbox("x", [(reply("7", at + timedelta(hours=2)), "kaito-DE-x-r1")], {}, at + WINDOW)
    assert j.answered_count() == 1
