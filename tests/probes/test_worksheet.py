"""Probes sent by hand: the worksheet of due manual probes, filled in and recorded."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from probes.channels.manual.worksheet import COLUMNS, import_worksheet, worksheet
from replybench.cli import app
from study.errors import StudyError, StudyProblems
from study.paths import journal_path
from study.timeutil import iso, parse_iso
from tests.e2e.studies import short_study
from tests.e2e.test_campaign import campaign, with_manual_targets

# The three manual probes of `with_manual_targets(short_study(...))`: US business hours on
# Tuesday 2026-03-03 (09:00-17:00 in New York, 14:00-22:00 UTC); windows of 6 hours.
ACORN, BIRCH, CEDAR = "acorn-US-manual-r1", "birch-US-manual-r1", "cedar-US-manual-r1"
LATER = datetime(2026, 3, 5, tzinfo=UTC)  # every window has ended, X's included


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return with_manual_targets(short_study(tmp_path / "s"))


def read_sheet(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: r.get(c, "") for c in COLUMNS} for r in rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def fill(sheet: list[dict[str, str]], probe_id: str, **values: str) -> None:
    row = next(r for r in sheet if r["probe_id"] == probe_id)
    row.update(values)


def dump(study_dir: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(journal_path(study_dir))
    try:
        return [
            tuple(row)
            for table in ("probes", "attempts", "replies", "events", "meta")
            for row in con.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
        ]
    finally:
        con.close()


def journal_rows(study_dir: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    con = sqlite3.connect(journal_path(study_dir))
    try:
        return [tuple(r) for r in con.execute(sql, params)]
    finally:
        con.close()


# -- the worksheet ------------------------------------------------------------------------


def test_the_worksheet_lists_the_manual_probes_with_the_text_to_send(
    study: Path, tmp_path: Path
) -> None:
    out = tmp_path / "calls.csv"
    assert not journal_path(study).exists()
    assert worksheet(study, out) == 3
    assert journal_path(study).exists()  # created from the plan, as `run` would
    sheet = read_sheet(out)
    assert list(sheet[0]) == list(COLUMNS)
    assert [r["probe_id"] for r in sheet] == [ACORN, CEDAR, BIRCH]  # in sending order
    acorn = sheet[0]
    assert (acorn["brand"], acorn["country"], acorn["handle"], acorn["slot"]) == (
        "acorn", "US", "+1 212 555 0100", "business",
    )  # fmt: skip
    # The text the person says on the phone: the number they call is not part of it.
    assert acorn["text"].startswith("Hi, I ordered online")
    utc_time, local = acorn["scheduled_at"], acorn["scheduled_local"]
    assert utc_time.endswith("+00:00") and local.endswith("-05:00")  # New York in March
    assert parse_iso(utc_time) == parse_iso(local)
    assert all(r[c] == "" for r in sheet for c in COLUMNS[-5:])
    # Only the X probes' journal rows are untouched: nothing was sent.
    assert journal_rows(study, "SELECT DISTINCT state FROM probes") == [("planned",)]


def test_the_worksheet_lists_only_the_due_and_not_yet_recorded(study: Path, tmp_path: Path) -> None:
    assert worksheet(study, tmp_path / "none.csv", now=datetime(2026, 3, 3, tzinfo=UTC)) == 0
    assert read_sheet(tmp_path / "none.csv") == []
    sheet = tmp_path / "all.csv"
    worksheet(study, sheet)
    rows = read_sheet(sheet)
    first = parse_iso(rows[0]["scheduled_at"])
    assert worksheet(study, tmp_path / "due.csv", now=first) == 1
    fill(rows, ACORN, sent_at="2026-03-03T09:40:00-05:00")
    import_worksheet(study, write_sheet(sheet, rows), now=LATER)
    later = tmp_path / "later.csv"
    assert worksheet(study, later) == 2
    assert [r["probe_id"] for r in read_sheet(later)] == [CEDAR, BIRCH]


def test_the_worksheet_never_overwrites_a_file(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "calls.csv"
    out.write_text("filled in, not imported yet")
    with pytest.raises(StudyError, match="already exists"):
        worksheet(study, out)
    assert out.read_text() == "filled in, not imported yet"


# -- the round trip -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_filled_worksheet_is_recorded_like_any_probe(study: Path, tmp_path: Path) -> None:
    _, journal, _ = await campaign(study)  # the X probes run to the end; manual ones wait
    journal.close()
    sheet = tmp_path / "calls.csv"
    worksheet(study, sheet)
    rows = read_sheet(sheet)
    fill(rows, ACORN, sent_at="2026-03-03T09:40:00-05:00", replied_at="2026-03-03T10:10:00-05:00",
         reply_text="Please call our order line.", note="waited 4 min in the queue")  # fmt: skip
    fill(rows, CEDAR, sent_at="2026-03-03T17:50:00Z")  # no answer
    # BIRCH is left blank: not done yet.
    s = import_worksheet(study, write_sheet(sheet, rows), now=LATER)
    assert (s.recorded, s.replies, s.closed, s.unchanged, s.blank) == (2, 1, 2, 0, 1)
    assert s.warnings == ()

    probes = journal_rows(
        study,
        "SELECT probe_id, state, sent_at, closes_at, closed_at, message_id, detail FROM probes "
        "WHERE channel = 'manual' ORDER BY probe_id",
    )
    assert probes == [
        (ACORN, "closed", "2026-03-03T14:40:00.000Z", "2026-03-03T20:40:00.000Z",
         "2026-03-03T20:40:00.000Z", None, "waited 4 min in the queue"),
        (BIRCH, "planned", None, None, None, None, None),
        (CEDAR, "closed", "2026-03-03T17:50:00.000Z", "2026-03-03T23:50:00.000Z",
         "2026-03-03T23:50:00.000Z", None, None),
    ]  # fmt: skip
    attempts = journal_rows(
        study,
        "SELECT a.probe_id, a.started_at, a.finished_at, a.outcome, a.detail FROM attempts AS a"
        " JOIN probes AS p USING (probe_id) WHERE p.channel = 'manual' ORDER BY a.probe_id",
    )
    assert attempts == [
        (ACORN, "2026-03-03T14:40:00.000Z", "2026-03-03T14:40:00.000Z", "acknowledged",
         "recorded by hand"),
        (CEDAR, "2026-03-03T17:50:00.000Z", "2026-03-03T17:50:00.000Z", "acknowledged",
         "recorded by hand"),
    ]  # fmt: skip
    replies = journal_rows(
        study,
        "SELECT channel, reply_id, probe_id, author, text, created_at, kind, seen_at "
        "FROM replies WHERE channel = 'manual'",
    )
    assert replies == [
        ("manual", f"{ACORN}-reply", ACORN, "+1 212 555 0100", "Please call our order line.",
         "2026-03-03T15:10:00.000Z", "public_reply", iso(LATER)),
    ]  # fmt: skip
    events = journal_rows(
        study,
        "SELECT at, kind, detail FROM events WHERE probe_id = ? ORDER BY seq",
        ACORN,
    )
    assert events == [
        ("2026-03-03T14:40:00.000Z", "sent",
         "recorded by hand (calls.csv): waited 4 min in the queue"),
        ("2026-03-03T20:40:00.000Z", "closed", None),
    ]  # fmt: skip
    # The import is the manual channel's inbox read, and the journal's as-of time moves on.
    assert journal_rows(study, "SELECT value FROM meta WHERE key = 'last_observation'") == [
        (iso(LATER),)
    ]
    assert journal_rows(study, "SELECT polled_at FROM cursors WHERE channel = 'manual'") == [
        (iso(LATER),)
    ]

    # The analysis reads them like any probe: answered in 30 minutes, or censored at 6 h.
    from analysis import outcomes

    out = outcomes(study).set_index("probe_id")
    assert len(out) == 16 + 2
    assert bool(out.loc[ACORN, "observed"]) and out.loc[ACORN, "duration_hours"] == 0.5
    assert out.loc[ACORN, "first_response_kind"] == "public_reply"
    assert not out.loc[CEDAR, "observed"] and out.loc[CEDAR, "duration_hours"] == 6.0


def test_importing_the_same_sheet_again_changes_nothing(study: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "calls.csv"
    worksheet(study, sheet)
    rows = read_sheet(sheet)
    fill(rows, ACORN, sent_at="2026-03-03T09:40:00-05:00", replied_at="2026-03-03T10:10:00-05:00",
         reply_kind="redirect", reply_text="Please DM us.")  # fmt: skip
    fill(rows, CEDAR, sent_at="2026-03-03T17:50:00Z")
    write_sheet(sheet, rows)
    import_worksheet(study, sheet, now=LATER)
    before = dump(study)
    again = import_worksheet(study, sheet, now=LATER)
    assert (again.recorded, again.replies, again.closed, again.unchanged) == (0, 0, 0, 2)
    assert dump(study) == before


def test_a_reply_seen_later_is_added_and_the_window_closed_when_it_ends(
    study: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "calls.csv"
    worksheet(study, sheet)
    rows = read_sheet(sheet)
    fill(rows, ACORN, sent_at="2026-03-03T14:40:00Z")
    sent = parse_iso("2026-03-03T14:40:00Z")
    s = import_worksheet(study, write_sheet(sheet, rows), now=sent + timedelta(hours=1))
    assert (s.recorded, s.replies, s.closed) == (1, 0, 0)
    assert journal_rows(study, "SELECT state FROM probes WHERE probe_id = ?", ACORN) == [("sent",)]
    # X probes are still planned, yet the as-of time moves on: the analysis censors each
    # channel at its own last read (X has none yet), and an import never moves it back.
    one_hour = [(iso(sent + timedelta(hours=1)),)]
    assert journal_rows(study, "SELECT value FROM meta WHERE key = 'last_observation'") == one_hour
    import_worksheet(study, sheet, now=sent + timedelta(minutes=30))
    assert journal_rows(study, "SELECT value FROM meta WHERE key = 'last_observation'") == one_hour
    assert journal_rows(study, "SELECT polled_at FROM cursors") == one_hour

    fill(rows, ACORN, replied_at="2026-03-03T16:00:00Z", reply_kind="direct_message")
    s = import_worksheet(study, write_sheet(sheet, rows), now=sent + timedelta(hours=3))
    assert (s.recorded, s.replies, s.closed, s.unchanged) == (0, 1, 0, 0)
    s = import_worksheet(study, sheet, now=sent + timedelta(hours=7))
    assert (s.recorded, s.replies, s.closed, s.unchanged) == (0, 0, 1, 1)
    assert journal_rows(study, "SELECT state FROM probes WHERE probe_id = ?", ACORN) == [
        ("closed",)
    ]


def test_a_probe_sent_outside_its_slot_is_recorded_with_a_warning(
    study: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "calls.csv"
    worksheet(study, sheet)
    rows = read_sheet(sheet)
    fill(rows, ACORN, sent_at="2026-03-03T17:30:00-05:00")  # the slot ends at 17:00
    s = import_worksheet(study, write_sheet(sheet, rows), now=LATER)
    assert s.recorded == 1
    assert s.warnings == (
        f"{sheet}:2: warning: probe {ACORN} was sent at 2026-03-03 17:30 local time, outside "
        "its business slot (2026-03-03 09:00-17:00 US); recorded anyway, say why in the note "
        "column if it matters",
    )


# -- bad rows -----------------------------------------------------------------------------


def test_every_bad_row_is_reported_and_nothing_is_recorded(study: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "calls.csv"
    worksheet(study, sheet)
    rows = read_sheet(sheet)
    fill(rows, ACORN, sent_at="2026-03-03T14:40:00Z")  # good: recorded first, then changed
    import_worksheet(study, write_sheet(sheet, rows), now=LATER)
    before = dump(study)
    f = str(sheet)
    bad = [
        {"probe_id": ACORN, "sent_at": "2026-03-03T15:40:00Z"},  # 2
        {"probe_id": BIRCH, "sent_at": "yesterday"},  # 3
        {"probe_id": CEDAR, "sent_at": "2026-03-03T10:00:00"},  # 4
        {"probe_id": CEDAR, "sent_at": "2026-03-03T15:00:00Z",
         "replied_at": "2026-03-03T14:00:00Z"},  # 5
        {"probe_id": CEDAR, "sent_at": "2026-03-03T15:00:00Z",
         "replied_at": "2026-03-03T16:00:00Z", "reply_kind": "publc_reply"},  # 6
        {"probe_id": "cedar-US-manual-r2", "sent_at": "2026-03-03T15:00:00Z"},  # 7
        {"probe_id": "acorn-US-x-r1", "sent_at": "2026-03-03T15:00:00Z"},  # 8
        {"probe_id": CEDAR, "sent_at": "2026-03-03T15:00:00Z", "reply_text": "Hello"},  # 9
        {"probe_id": CEDAR, "replied_at": "2026-03-03T16:00:00Z"},  # 10
        {"probe_id": CEDAR, "sent_at": "2027-01-01T00:00:00Z"},  # 11
        {"probe_id": BIRCH, "sent_at": "2026-03-03T15:00:00Z"},  # 12: good ...
        {"probe_id": BIRCH, "sent_at": "2026-03-03T15:00:00Z"},  # 13: ... but twice
        {"probe_id": "", "sent_at": "2026-03-03T15:00:00Z"},  # 14
    ]  # fmt: skip
    write_sheet(sheet, bad)
    with pytest.raises(StudyProblems) as e:
        import_worksheet(study, sheet, now=LATER)
    fix = "correct the row: the journal keeps what was recorded first"
    assert [str(p) for p in e.value.problems] == [
        f"{f}:2: probe {ACORN} is already recorded as sent at 2026-03-03T14:40:00.000Z, not "
        f"2026-03-03T15:40:00Z; {fix}",
        f"{f}:3: sent_at 'yesterday' is not an ISO 8601 time; write it like "
        "2026-03-02T14:05:00+01:00",
        f"{f}:4: sent_at '2026-03-03T10:00:00' has no UTC offset; add the one of the clock it "
        "was read from, e.g. '2026-03-03T10:00:00Z' or '2026-03-03T10:00:00+01:00'",
        f"{f}:5: replied_at 2026-03-03T14:00:00Z is before sent_at 2026-03-03T15:00:00Z; check "
        "both times and their UTC offsets",
        f"{f}:6: reply_kind 'publc_reply' is unknown (did you mean 'public_reply'?); use one of "
        "public_reply, direct_message, redirect, auto_ack",
        f"{f}:7: probe 'cedar-US-manual-r2' is not in this study's journal (did you mean "
        f"'{CEDAR}'?); copy the probe_id from the worksheet",
        f"{f}:8: probe acorn-US-x-r1 is a x probe: the runner sends it, not a person; remove "
        "the row",
        f"{f}:9: reply_text is given but replied_at is empty; add the reply's time or clear "
        "reply_text",
        f"{f}:10: sent_at is empty but the reply is filled in; add when the inquiry was sent",
        f"{f}:11: sent_at 2027-01-01T00:00:00Z is after the import's time "
        "2026-03-05T00:00:00.000Z; check the date and its UTC offset",
        f"{f}:13: repeats probe {BIRCH} of line 12; keep one row per probe",
        f"{f}:14: probe_id is empty; copy the row from the worksheet as it was written",
    ]
    assert dump(study) == before


def test_a_recorded_reply_cannot_be_changed(study: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "calls.csv"
    worksheet(study, sheet)
    rows = read_sheet(sheet)
    fill(rows, ACORN, sent_at="2026-03-03T14:40:00Z", replied_at="2026-03-03T15:00:00Z")
    import_worksheet(study, write_sheet(sheet, rows), now=LATER)
    fill(rows, ACORN, replied_at="")
    with pytest.raises(StudyProblems) as e:
        import_worksheet(study, write_sheet(sheet, rows), now=LATER)
    assert str(e.value) == (
        f"{sheet}:2: probe {ACORN} is already recorded with a public_reply at "
        "2026-03-03T15:00:00.000Z, and this row differs (replied_at, reply_kind or "
        "reply_text); correct the row: the journal keeps what was recorded first"
    )


def test_a_sheet_without_the_columns_to_fill_is_refused(study: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "calls.csv"
    sheet.write_text(f"probe_id,sent at,replied_at,reply_kind,reply_text\n{ACORN},,,,\n")
    with pytest.raises(StudyProblems) as e:
        import_worksheet(study, sheet, now=LATER)
    assert str(e.value) == (
        f"{sheet}:1: has no column 'sent_at'; rename 'sent at' to 'sent_at' (the worksheet's "
        f"columns: {','.join(COLUMNS)})"
    )
    with pytest.raises(StudyError, match="does not exist; check the path"):
        import_worksheet(study, tmp_path / "nope.csv", now=LATER)


# -- the commands -------------------------------------------------------------------------


def test_the_commands_write_record_and_report_bad_rows_as_file_and_line(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    result = cli.invoke(app, ["worksheet", "s", "--out", "calls.csv"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "wrote calls.csv: 3 probes to send by hand",
        "instructions: Call; note the time.",
    ]
    rows = read_sheet(tmp_path / "calls.csv")
    fill(rows, ACORN, sent_at="2026-03-03T14:40:00Z", replied_at="2026-03-03T15:00:00")
    write_sheet(tmp_path / "calls.csv", rows)
    result = cli.invoke(app, ["import-worksheet", "s", "calls.csv"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "calls.csv:2: replied_at '2026-03-03T15:00:00' has no UTC offset; add the one of the "
        "clock it was read from, e.g. '2026-03-03T15:00:00Z' or '2026-03-03T15:00:00+01:00'",
        "Error: 1 problem found; fix them and run again",
    ]
    fill(rows, ACORN, replied_at="2026-03-03T15:00:00Z")
    write_sheet(tmp_path / "calls.csv", rows)
    result = cli.invoke(app, ["import-worksheet", "s", "calls.csv"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "recorded 1 probe sent by hand and 1 reply; 1 window(s) closed; 0 row(s) recorded "
        "before, 2 not done yet"
    )
    result = cli.invoke(app, ["worksheet", "s", "--out", "more.csv", "--due-by", "tomorrow"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: --due-by 'tomorrow' is not an ISO 8601 time with a UTC offset; write it like "
        "2026-03-02T18:00:00+01:00"
    )


# -- times outside the study years (issue 14 item 2) ---------------------------------------


def test_a_time_outside_the_study_years_is_refused_not_recorded(
    study: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "calls.csv"
    worksheet(study, sheet)
    rows = read_sheet(sheet)
    fill(rows, ACORN, sent_at="1600-01-01T00:00:00+00:00")
    fill(rows, BIRCH, sent_at="2026-03-03T15:00:00Z", replied_at="0999-03-03T16:00:00Z")
    before = dump(study)
    with pytest.raises(StudyProblems) as e:
        import_worksheet(study, write_sheet(sheet, rows), now=LATER)
    assert [str(p) for p in e.value.problems] == [
        f"{sheet}:2: sent_at '1600-01-01T00:00:00+00:00' is out of range: times must lie in "
        "the years 2000-2099; check the year",
        f"{sheet}:4: replied_at '0999-03-03T16:00:00Z' is out of range: times must lie in the "
        "years 2000-2099; check the year",
    ]
    assert dump(study) == before


def test_a_corrected_sheet_replaces_a_time_out_of_range_recorded_before(
    study: Path, tmp_path: Path
) -> None:
    """An older version recorded a sent_at of 1600 with a mere warning, after which the
    analysis called the journal damaged and the corrected sheet was refused."""
    from analysis import outcomes

    sheet = tmp_path / "calls.csv"
    worksheet(study, sheet)
    rows = read_sheet(sheet)
    fill(rows, ACORN, sent_at="2026-03-03T14:40:00Z", replied_at="2026-03-03T15:10:00Z")
    import_worksheet(study, write_sheet(sheet, rows), now=LATER)
    con = sqlite3.connect(journal_path(study))  # what the older version wrote
    with con:
        bad, bad_end = "1600-01-01T00:00:00.000Z", "1600-01-01T06:00:00.000Z"
        con.execute("UPDATE probes SET sent_at = ?, closes_at = ?, closed_at = ? "
                    "WHERE probe_id = ?", (bad, bad_end, bad_end, ACORN))  # fmt: skip
        con.execute("UPDATE attempts SET started_at = ?, finished_at = ? WHERE probe_id = ?",
                    (bad, bad, ACORN))  # fmt: skip
        con.execute("UPDATE replies SET created_at = ? WHERE probe_id = ?", (bad, ACORN))
    con.close()
    with pytest.raises(StudyError, match="1600-01-01"):
        outcomes(study)

    s = import_worksheet(study, sheet, now=LATER)  # the same, correct, sheet again
    assert (s.recorded, s.replies, s.unchanged) == (1, 1, 0)
    assert s.warnings == (
        f"{sheet}:2: warning: probe {ACORN} was recorded with sent_at {bad}, outside the study "
        "years; replaced by this row",
    )
    assert journal_rows(
        study, "SELECT state, sent_at, closes_at, closed_at FROM probes WHERE probe_id = ?", ACORN
    ) == [("closed", "2026-03-03T14:40:00.000Z", "2026-03-03T20:40:00.000Z",
           "2026-03-03T20:40:00.000Z")]  # fmt: skip
    assert journal_rows(
        study, "SELECT started_at, outcome FROM attempts WHERE probe_id = ?", ACORN
    ) == [("2026-03-03T14:40:00.000Z", "acknowledged")]
    assert journal_rows(study, "SELECT kind, detail FROM events WHERE probe_id = ? ORDER BY seq",
                        ACORN) == [
        ("corrected", f"sent_at {bad} was out of range"),
        ("sent", "recorded by hand (calls.csv)"),
        ("closed", None),
    ]  # fmt: skip
    out = outcomes(study).set_index("probe_id")
    assert bool(out.loc[ACORN, "observed"]) and out.loc[ACORN, "duration_hours"] == 0.5
    # Once corrected, the sheet is recorded like any other: importing it again changes nothing.
    again = dump(study)
    assert import_worksheet(study, sheet, now=LATER).unchanged == 1
    assert dump(study) == again
