"""Probes sent by hand: a worksheet of the due `manual` probes, and its filled rows recorded.

Where no API can be used (a phone line, a web form, an app's chat), people send the probes.
`worksheet` writes the due ones as a CSV with the text to send and empty columns to fill in;
`import_worksheet` records the filled rows in the journal exactly as the runner records a
probe it sent (state `sent` or `closed`, an `acknowledged` attempt, the reply by the brand's
handle), so the analysis treats them like any other probe.

The import checks every row first and records nothing unless all are good; a row whose
`sent_at` is empty is not done yet and is skipped; a row recorded before with the same values
changes nothing, so the same sheet may be imported again as it fills up. A time outside the
study years (`study.timeutil.in_range`) is refused; one recorded by an older version is
replaced by the corrected row (with a warning). Sending outside the probe's slot is a warning,
not an error: people are late. The import is the manual channel's
inbox read: its time goes into `cursors` (the analysis censors manual probes there) and moves
the journal's `last_observation` on.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from study import csvout
from study.atomic import write_atomic
from study.clock import SystemClock
from study.csvrows import (
    Rows,
    check_reply,
    check_required,
    parse_time,
    read_sheet,
    reply_kind,
    suggest,
)
from study.errors import Problem, StudyError, StudyProblems, UsageError
from study.journal.by_hand import MANUAL, HandProbe, HandRow, hand_probes, record_by_hand
from study.journal.campaign import Journal
from study.load import load_study
from study.model import ProbeState, Study
from study.plan import make_plan
from study.timeutil import in_range, iso, parse_iso

COLUMNS = (
    "probe_id", "brand", "country", "handle", "persona", "slot", "scheduled_at",
    "scheduled_local", "text", "sent_at", "replied_at", "reply_kind", "reply_text", "note",
)  # fmt: skip
REQUIRED = ("probe_id", "sent_at", "replied_at", "reply_kind", "reply_text")


@dataclass(frozen=True)
class WorksheetImport:
    """What one import of a filled worksheet changed in the journal."""

    recorded: int  # probes recorded as sent by hand
    replies: int  # replies recorded
    closed: int  # windows closed (they had ended by the import's time)
    unchanged: int  # rows recorded before with the same values
    blank: int  # rows without a sent_at: not done yet
    warnings: tuple[str, ...]  # FILE:line: warning lines (e.g. sent outside the slot)


def worksheet(
    study_dir: Path,
    out: Path,
    *,
    now: datetime | None = None,
    personas: Collection[str] | None = None,
) -> int:
    """Write the `manual` probes not yet recorded to `out` (a new CSV); how many.

    With `now`, only those scheduled by then; with `personas`, only those the named personas
    send (each person their own sheet: `[personas.NAME] channel = "manual"`). The `persona`
    column says who sends each probe (empty in a study without personas). The journal is
    created from the plan if the study has not been run yet. Times are ISO 8601 with their
    offset: `scheduled_at` in UTC, `scheduled_local` in the country's time zone."""
    if out.exists():
        raise StudyError(
            f"{out}: already exists (it may hold results not yet imported); choose another "
            "--out, or import it and move it away first"
        )
    study = load_study(study_dir)
    if personas is not None:
        _check_personas(study, personas)
    journal = _open(study_dir, study, SystemClock().now())
    try:
        due = journal.probes_in(ProbeState.PLANNED)
    finally:
        journal.close()
    due = [p for p in due if p.channel == MANUAL and (now is None or p.scheduled_at <= now)]
    due = [p for p in due if personas is None or p.persona in personas]
    buf = io.StringIO()
    writer = csvout.writer(buf)
    writer.writerow(COLUMNS)
    for p in due:
        zone = ZoneInfo(study.country(p.country).timezone)
        writer.writerow(
            [
                p.probe_id, p.brand, p.country, p.handle, p.persona, p.slot,
                p.scheduled_at.isoformat(timespec="seconds"),
                p.scheduled_at.astimezone(zone).isoformat(timespec="seconds"),
                p.text, "", "", "", "", "",
            ]
        )  # fmt: skip
    write_atomic(out, buf.getvalue())
    return len(due)


def _check_personas(study: Study, names: Collection[str]) -> None:
    """UsageError for a name that is no persona sending by hand."""
    by_hand = sorted(p.name for p in study.personas if p.channel == MANUAL)
    for name in sorted(set(names) - set(by_hand)):
        raise UsageError(
            f"--persona {name}: the study has no persona that sends by hand by that name; "
            f"its manual personas are {', '.join(by_hand) or 'none'} (study.toml "
            '[personas.NAME] with channel = "manual")'
        )


def instructions(study_dir: Path) -> str:
    """The `[channels.manual] instructions` of the study, or ''."""
    study = load_study(study_dir)
    try:
        return dict(study.channel(MANUAL).options).get("instructions", "")
    except KeyError:
        return ""


def import_worksheet(
    study_dir: Path, csv_path: Path, *, now: datetime | None = None
) -> WorksheetImport:
    """Record a filled worksheet's rows in the journal; what changed.

    `now` (default: the real time) is the moment of the import: no time may lie after it,
    and a window that ended by then is closed. Raises `StudyProblems` (one `FILE:line: what;
    the fix` per bad row) and records nothing unless every row is good."""
    now = now or SystemClock().now()
    file = str(csv_path)
    study = load_study(study_dir)
    problems: list[Problem] = []
    records = _read_sheet(csv_path, problems)
    journal = _open(study_dir, study, now)
    try:
        known = hand_probes(journal)
        rows: list[HandRow] = []
        warnings: list[str] = []
        first: dict[str, int] = {}
        blank = 0
        for line, values in records:
            if not any(values[c] for c in ("sent_at", "replied_at", "reply_kind", "reply_text")):
                blank += 1
                continue
            bad: list[str] = []
            row = _parse(line, values, known, now, bad)
            if row is not None and row.probe_id in first:
                bad.append(
                    f"repeats probe {row.probe_id} of line {first[row.probe_id]}; keep one "
                    "row per probe"
                )
            problems.extend(Problem(file, line, message) for message in bad)
            if bad or row is None:
                continue
            first[row.probe_id] = line
            rows.append(row)
            was = known[row.probe_id]
            late = _outside_slot(study, journal, row) if _to_send(was) else ""
            if late:
                warnings.append(f"{file}:{line}: warning: {late}")
            if fixed := _replaced(was, row):
                warnings.append(f"{file}:{line}: warning: {fixed}")
        if problems:
            raise StudyProblems(sorted(problems, key=lambda p: p.line or 0))
        sends = [r for r in rows if _to_send(known[r.probe_id])]
        replies = [
            r
            for r in rows
            if r.replied_at is not None
            and (
                known[r.probe_id].reply is None
                or _to_send(known[r.probe_id])
                or not _valid(known[r.probe_id].reply_at)
            )
        ]
        sheet = [values["probe_id"] for _, values in records]
        closed = record_by_hand(journal, sends, replies, now, csv_path.name, sheet)
    finally:
        journal.close()
    unchanged = len(rows) - len({r.probe_id for r in sends + replies})
    return WorksheetImport(len(sends), len(replies), closed, unchanged, blank, tuple(warnings))


# -- reading the sheet --------------------------------------------------------------------


def _read_sheet(path: Path, out: list[Problem]) -> Rows:
    """The non-blank rows with the physical line each starts on (the header is line 1),
    values stripped; columns other than the worksheet's are ignored."""
    name = str(path)
    shape = f"the worksheet's columns: {','.join(COLUMNS)}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise StudyError(f"{path}: does not exist; check the path") from None
    except UnicodeDecodeError:
        raise StudyError(f'{path}: is not UTF-8 text; save it as UTF-8 ("CSV UTF-8")') from None

    def header_ok(line: int, header: list[str]) -> bool:
        return check_required(name, line, header, REQUIRED, COLUMNS, shape, out)

    sheet = read_sheet(text, name, COLUMNS, header_ok, out)
    if sheet is None:
        return []
    if sheet.header is None:
        raise StudyError(f"{path}: is empty; write a worksheet with: replybench worksheet")
    return sheet.rows


def _valid(stored: str | None) -> bool:
    """Whether a time read from the journal is one (None, no time, counts as valid): an
    older version recorded any year, and such a row is replaced by the corrected one."""
    if stored is None:
        return True
    try:
        return in_range(parse_iso(stored))
    except ValueError:
        return False


def _to_send(probe: HandProbe) -> bool:
    """Whether the row records the probe's send: it is planned, or recorded with a bad time."""
    return probe.state == "planned" or not _valid(probe.sent_at)


def _replaced(probe: HandProbe, row: HandRow) -> str:
    """The warning for a recorded time out of range that the row replaces, or ''."""
    for column, stored in (("sent_at", probe.sent_at), ("replied_at", probe.reply_at)):
        if not _valid(stored):
            return (
                f"probe {row.probe_id} was recorded with {column} {stored}, outside the study "
                "years; replaced by this row"
            )
    return ""


def _time(name: str, value: str, now: datetime, bad: list[str]) -> datetime | None:
    """An instant from ISO 8601 text with an offset (the same rules as `replybench import`)."""
    when = parse_time(name, value, bad)
    if when is not None and when > now:
        bad.append(
            f"{name} {value} is after the import's time {iso(now)}; check the date and its "
            "UTC offset"
        )
        return None
    return when


def _parse(
    line: int, v: dict[str, str], known: dict[str, HandProbe], now: datetime, bad: list[str]
) -> HandRow | None:
    pid = v["probe_id"]
    probe = known.get(pid)
    if not pid:
        bad.append("probe_id is empty; copy the row from the worksheet as it was written")
    elif probe is None:
        meant = suggest(pid, [k for k, p in known.items() if p.channel == MANUAL])
        hint = f" (did you mean '{meant}'?)" if meant else ""
        bad.append(
            f"probe '{pid}' is not in this study's journal{hint}; copy the probe_id from the "
            "worksheet"
        )
    elif probe.channel != MANUAL:
        bad.append(
            f"probe {pid} is a {probe.channel} probe: the runner sends it, not a person; "
            "remove the row"
        )
    elif probe.state not in ("planned", "sent", "closed"):
        bad.append(f"probe {pid} is {probe.state}; remove the row")
    kind = reply_kind(v["reply_kind"], bad)
    if not v["sent_at"]:
        bad.append("sent_at is empty but the reply is filled in; add when the inquiry was sent")
    sent = _time("sent_at", v["sent_at"], now, bad) if v["sent_at"] else None
    replied = _time("replied_at", v["replied_at"], now, bad) if v["replied_at"] else None
    check_reply(v, sent, replied, bad)
    if bad or sent is None or probe is None:
        return None
    row = HandRow(line, pid, sent, replied, kind, v["reply_text"], v["note"])
    _check_recorded(row, probe, v, bad)
    return None if bad else row


def _check_recorded(row: HandRow, probe: HandProbe, v: dict[str, str], bad: list[str]) -> None:
    """A probe recorded before must be given the same values again (a reply may be added)."""
    if _to_send(probe):
        return
    fix = "correct the row: the journal keeps what was recorded first"
    if probe.sent_at != iso(row.sent_at):
        bad.append(
            f"probe {row.probe_id} is already recorded as sent at {probe.sent_at}, not "
            f"{v['sent_at']}; {fix}"
        )
    elif probe.reply is not None and _valid(probe.reply_at) and probe.reply != _reply_of(row):
        at, kind, _ = probe.reply
        bad.append(
            f"probe {row.probe_id} is already recorded with a {kind} at {at}, and this row "
            f"differs (replied_at, reply_kind or reply_text); {fix}"
        )


def _reply_of(row: HandRow) -> tuple[str, str, str] | None:
    if row.replied_at is None:
        return None
    return (iso(row.replied_at), row.kind, row.reply_text)


def _outside_slot(study: Study, journal: Journal, row: HandRow) -> str:
    """Why the send lies outside its probe's slot, or ''."""
    probe = journal.probe(row.probe_id)
    if probe.slot_start_at <= row.sent_at < probe.slot_end_at:
        return ""
    zone = ZoneInfo(study.country(probe.country).timezone)
    start, end = probe.slot_start_at.astimezone(zone), probe.slot_end_at.astimezone(zone)
    return (
        f"probe {row.probe_id} was sent at {row.sent_at.astimezone(zone):%Y-%m-%d %H:%M} local "
        f"time, outside its {probe.slot} slot ({start:%Y-%m-%d %H:%M}-{end:%H:%M} "
        f"{probe.country}); recorded anyway, say why in the note column if it matters"
    )


# -- writing ------------------------------------------------------------------------------


def _open(study_dir: Path, study: Study, now: datetime) -> Journal:
    return Journal.create_or_open(
        study_dir,
        make_plan(study),
        study_name=study.name,
        window_hours=study.window_hours,
        now=now,
    )
