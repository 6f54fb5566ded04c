"""Hand-collected results: a CSV of probes sent by hand and the replies seen, into a journal.

Columns (header row, any order): `brand, country, channel, sent_at, replied_at` are required;
`handle, scope, script, slot, reply_kind, reply_text, inquiry_text, brand_name, sector` are
optional (`brand_name` and `sector`: the same on every row of a brand, see
analysis.import_names). Times are ISO 8601 WITH an offset (`2026-03-02T14:05:00+01:00` or
`...Z`); an empty `replied_at` means no reply was seen. Defaults: handle = brand, scope =
local, script = unknown, slot = unknown (the country alone does not fix a time zone, so no
local slot is computed), reply_kind = public_reply, texts ''. `channel` is one of the channel
kinds (x, mastodon, bluesky, email, manual). Each row becomes a probe
`import-{brand}-{country}-{channel}-{t}` (t = sent_at in UTC, compact: `20260302T090500Z`, with
`.123` milliseconds when there are any): the id is the row's whole key, so two probes never
share one. Journals imported before this format carry ids ending in 8 hex digits of a hash of
sent_at; their ids stay as they are, and a row counts as imported before when its key (brand,
country, channel, sent_at), not its id, is in the journal. When replied, the row also gives the
reply `{probe_id}-reply` by the handle. A probe is `closed` when sent_at + window <= the
journal's last observation (the latest time in any imported file), else `sent`; `round` numbers
a target's probes in sending order. Unknown slot occurrences are stored as the send instant
(slot_start_at = slot_end_at = sent_at).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from sqlite3 import Connection

from analysis.import_names import (
    NAME_COLUMNS,
    BrandName,
    brand_names,
    journal_names,
    name_problems,
    store_names,
)
from analysis.import_rows import read_rows
from analysis.language import COMMON, Detector
from study.countries import is_country, suggest_country
from study.csvrows import check_reply, name_problem, parse_time, reply_kind, suggest
from study.errors import Problem, StudyError, StudyProblems, UsageError
from study.journal.imports import (
    Key,
    close_windows,
    event,
    imported_keys,
    insert_imported,
    meta,
    read_journal,
    set_meta,
    writing,
)
from study.load_tables import TARGET_LIMITS
from study.model import Scope
from study.paths import journal_path
from study.plan_text import CHANNEL_KINDS
from study.timeutil import iso, parse_iso

REQUIRED = ("brand", "country", "channel", "sent_at", "replied_at")
OPTIONAL = (
    "handle", "scope", "script", "slot", "reply_kind", "reply_text", "inquiry_text",
    *NAME_COLUMNS,
)  # fmt: skip
SCOPES = (Scope.LOCAL.value, Scope.GLOBAL.value)
_BRAND = re.compile(r"[a-z0-9_-]+")
# The longest value each name-like column may hold (brand and handle as in targets.csv); the
# rest are short words or codes, whose limit only keeps a pasted page out of the messages.
NAME_LIMITS = {
    "brand": TARGET_LIMITS["brand"],
    "handle": TARGET_LIMITS["handle"],
    **dict.fromkeys(("country", "channel", "scope", "script", "slot", "reply_kind"), 100),
}
# What people write for a channel kind in a hand-kept sheet (a case slip is found anyway).
CHANNEL_WORDS = {
    "twitter": "x",
    "tweet": "x",
    "toot": "mastodon",
    "bsky": "bluesky",
    "e-mail": "email",
    "mail": "email",
    "phone": "manual",
    "phone call": "manual",
    "call": "manual",
    "telephone": "manual",
    "web form": "manual",
    "webform": "manual",
    "form": "manual",
    "chat": "manual",
    "app": "manual",
}


@dataclass(frozen=True)
class ImportSummary:
    """What one import added to the journal."""

    journal: Path
    created: bool  # the import created the journal
    probes: int  # probes added
    replies: int  # replies added
    closed: int  # of the added probes, those whose window has ended
    open: int  # of the added probes, those whose window is still open (state sent)
    last_observation: datetime  # the journal's as-of time after the import
    watched_until_given: bool = False  # --observed-until given (else the latest time is used)

    @property
    def warning(self) -> str | None:
        """Why the open probes may be a mistake, when the default as-of time left them open."""
        if self.watched_until_given or not self.open:
            return None
        return (
            f"warning: {self.open} of {self.probes} probes are still open: without "
            f"--observed-until, answers count only up to {iso(self.last_observation)}, the "
            "latest time in the data, so these count as unanswered so far; if the researchers "
            "watched longer, import into a new study folder with --observed-until"
        )


@dataclass(frozen=True)
class _Row:
    line: int
    probe_id: str
    brand: str
    country: str
    channel: str
    handle: str
    scope: str
    script: str
    slot: str
    text: str
    sent_at: datetime
    replied_at: datetime | None
    kind: str
    reply_text: str
    brand_name: str = ""
    sector: str = ""

    @property
    def key(self) -> Key:
        return (self.brand, self.country, self.channel, iso(self.sent_at))


def probe_id_for(brand: str, country: str, channel: str, sent_at: datetime) -> str:
    """The id of an imported probe: its whole key, so it is deterministic and unique (brands
    are lower-case, countries upper-case and channels a fixed word, so the parts never run
    into each other)."""
    at = re.sub(r"[-:]|\.000(?=Z)", "", iso(sent_at))
    return f"import-{brand}-{country}-{channel}-{at}"


def check_channel(channel: str) -> str | None:
    """Why `channel` is not a channel kind, with the one probably meant; None when it is."""
    if channel in CHANNEL_KINDS:
        return None
    kinds = ", ".join(CHANNEL_KINDS)
    meant = CHANNEL_WORDS.get(channel.strip().lower()) or suggest(channel, list(CHANNEL_KINDS))
    hint = f"did you mean '{meant}'?" if meant else "write the channel kind"
    return f"channel '{channel}' is not a channel kind; {hint} (one of {kinds})"


def check_window(window_hours: float) -> None:
    if not (math.isfinite(window_hours) and window_hours > 0):
        raise UsageError(
            f"the window must be more than 0 hours (got {window_hours}); give the observation "
            "window in hours, e.g. --window-hours 72"
        )


def import_csv(
    study_dir: Path,
    csv_path: Path,
    window_hours: float,
    *,
    observed_until: datetime | None = None,
) -> ImportSummary:
    """Create or extend `study_dir`'s journal from a CSV of hand-collected probes and replies.

    The as-of time (meta `last_observation`) is `observed_until` when the researchers say
    until when they watched for answers, else the latest time in the data: without it the
    last probes count as still open, censored at the last reply anyone saw.

    Every row is checked first; on any problem a `StudyProblems` lists them all (one
    `FILE:line: what; fix` line each) and the journal is left untouched."""
    check_window(window_hours)
    path = journal_path(study_dir)
    problems: list[Problem] = []
    records = read_rows(csv_path, REQUIRED, OPTIONAL, problems)
    parsed = [_parse(str(csv_path), line, values, problems) for line, values in records or []]
    good = [r for r in parsed if r is not None]
    _check_duplicates(str(csv_path), good, problems)
    existing = read_journal(study_dir)
    old_meta: dict[str, str] = {}
    known: dict[str, BrandName] = {}
    if existing is not None:
        try:
            old_meta = meta(existing)
            _check_journal(path, old_meta, window_hours)
            _check_already_imported(imported_keys(existing), str(csv_path), good, problems)
            known = journal_names(existing)
        finally:
            existing.close()
    named = [(r.line, r.brand, r.brand_name, r.sector) for r in good]
    names = brand_names(str(csv_path), named, known, problems)
    latest = max((max(r.sent_at, r.replied_at or r.sent_at) for r in good), default=None)
    if observed_until is not None and latest is not None and observed_until < latest:
        problems.append(
            Problem(
                str(csv_path), None,
                f"--observed-until {iso(observed_until)} is before the latest time in the file "
                f"({iso(latest)}); give the moment the researchers stopped watching for answers",
            )
        )  # fmt: skip
    if problems:
        raise StudyProblems(sorted(problems, key=lambda p: p.line or 0))
    assert latest is not None
    as_of = iso(observed_until or latest)
    if old_meta.get("last_observation", "") > as_of:
        as_of = old_meta["last_observation"]
    window = timedelta(hours=window_hours)
    with writing(study_dir) as con:
        if "study_name" not in old_meta:
            set_meta(con, "study_name", study_dir.resolve().name)
        set_meta(con, "window_hours", repr(float(window_hours)))
        set_meta(con, "source", "import")
        set_meta(con, "last_observation", as_of)
        _insert(con, good, window, _languages(good))
        store_names(con, names)
        closed = close_windows(con, as_of)
        replied = sum(r.replied_at is not None for r in good)
        event(con, as_of, "imported", f"{csv_path.name}: {len(good)} probes, {replied} replies")
        added = [r.probe_id for r in good]
        n_closed = sum(1 for pid in added if pid in closed)
    return ImportSummary(
        journal=path,
        created=existing is None,
        probes=len(good),
        replies=replied,
        closed=n_closed,
        open=len(good) - n_closed,
        last_observation=parse_iso(as_of),
        watched_until_given=observed_until is not None,
    )


def _parse(file: str, line: int, v: dict[str, str], out: list[Problem]) -> _Row | None:
    unshowable = [w for c, n in NAME_LIMITS.items() if (w := name_problem(c, v[c], n))]
    if unshowable:
        out.extend(Problem(file, line, why) for why in unshowable)
        return None  # the other checks would quote the value
    bad: list[str] = []
    for column in ("brand", "country", "channel", "sent_at"):
        if not v[column]:
            bad.append(f"{column} is empty; fill it in")
    brand, country, channel = v["brand"], v["country"], v["channel"]
    if brand and not _BRAND.fullmatch(brand):
        better = re.sub(r"[^a-z0-9_-]+", "-", brand.lower()).strip("-")
        bad.append(
            f"brand '{brand}' is not an identifier (lower-case letters, digits, '-', '_'); "
            f"write e.g. '{better}'"
        )
    if country and not is_country(country):
        meant = suggest_country(country)
        hint = f"did you mean '{meant}'?" if meant else "use the ISO 3166 alpha-2 code"
        bad.append(f"country '{country}' is not an ISO 3166 code; {hint}")
    if channel and (why := check_channel(channel)):
        bad.append(why)
    scope = v["scope"] or Scope.LOCAL.value
    if scope not in SCOPES:
        bad.append(f"scope '{scope}' is unknown; use local or global")
    kind = reply_kind(v["reply_kind"], bad)
    sent = parse_time("sent_at", v["sent_at"], bad) if v["sent_at"] else None
    replied = parse_time("replied_at", v["replied_at"], bad) if v["replied_at"] else None
    check_reply(v, sent, replied, bad)
    bad.extend(name_problems(v))
    out.extend(Problem(file, line, message) for message in bad)
    if bad or sent is None:
        return None
    return _Row(
        line=line,
        probe_id=probe_id_for(brand, country, channel, sent),
        brand=brand,
        country=country,
        channel=channel,
        handle=v["handle"] or brand,
        scope=scope,
        script=v["script"] or "unknown",
        slot=v["slot"] or "unknown",
        text=v["inquiry_text"],
        sent_at=sent,
        replied_at=replied,
        kind=kind,
        reply_text=v["reply_text"],
        brand_name=v["brand_name"],
        sector=v["sector"],
    )


def _check_duplicates(file: str, rows: list[_Row], out: list[Problem]) -> None:
    first: dict[Key, int] = {}
    for r in rows:
        if r.key in first:
            out.append(
                Problem(
                    file,
                    r.line,
                    f"repeats the probe on line {first[r.key]} (same brand, country, "
                    "channel and sent_at); remove one of the two rows",
                )
            )
        else:
            first[r.key] = r.line


def _check_journal(path: Path, old: dict[str, str], window_hours: float) -> None:
    source = old.get("source", "campaign")
    if source != "import":
        raise StudyError(
            f"{path}: this journal holds a {source} (source = {source}); import hand-collected "
            "results into a study folder of their own"
        )
    old_window = float(old.get("window_hours", "nan"))
    if old_window != float(window_hours):
        raise StudyError(
            f"{path}: the journal's window is {old_window:g} hours but this import asks for "
            f"{window_hours:g}; import with --window-hours {old_window:g}, or into a new "
            "study folder"
        )


def _check_already_imported(
    known: dict[Key, str], file: str, rows: list[_Row], out: list[Problem]
) -> None:
    # By key, not id: a journal imported before ids were whole keys holds hashed ids.
    for r in rows:
        if (pid := known.get(r.key)) is not None:
            out.append(
                Problem(
                    file,
                    r.line,
                    f"this probe (same brand, country, channel and sent_at) is already in the "
                    f"journal as {pid}; remove the row (it was imported before)",
                )
            )


def _languages(rows: list[_Row]) -> dict[str, str]:
    """Each reply text's language (analysis.language), stored with the reply."""
    texts = [r.reply_text for r in rows if r.replied_at is not None and r.reply_text]
    return Detector(COMMON).detect_all(texts) if texts else {}


def _insert(
    con: Connection, rows: list[_Row], window: timedelta, languages: dict[str, str]
) -> None:
    probes = [
        (
            r.probe_id, r.brand, r.country, r.channel, r.handle, r.scope, r.script, r.slot,
            r.text, iso(r.sent_at), iso(r.sent_at + window),
        )
        for r in rows
    ]  # fmt: skip
    replies = [
        (
            r.channel, f"{r.probe_id}-reply", r.probe_id, r.handle, r.reply_text,
            iso(r.replied_at), r.kind, languages.get(r.reply_text),
        )
        for r in rows
        if r.replied_at is not None
    ]  # fmt: skip
    insert_imported(con, probes, replies)
