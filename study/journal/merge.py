"""Joining the journals of a team into the study's one journal (`replybench merge`).

Each member runs their personas' share of the same plan (`run --persona`) from their own copy
of the study folder, so each journal holds every probe of the plan and has moved only its own
personas' ones. A merge takes, for every probe, the journal that moved it, with its
attempts; every reply and event of every journal; each inbox's latest cursor. It refuses,
before writing anything:

- a journal of another design: another plan (`plan_sha256`), or other study files
  (`design_sha256`, the fingerprint of study.toml, targets.csv and scripts.csv);
- a conflict: a probe moved differently in two journals (attempts that are not one the
  continuation of the other, or two posts), or one reply tied to two probes.

The same journal merged again, or an older copy of it, changes nothing. The study's journal
is replaced only whole: the merge is built in a temporary file beside it and renamed into
place, so a kill at any moment leaves the old journal or the new one, and the journals merged
are only read.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from study.errors import StudyError
from study.journal import errors
from study.journal.campaign import DESIGN, Journal, design_fingerprint, initialise, same_plan
from study.journal.file import connect, environment_error
from study.journal.lock import RunLock
from study.journal.schema import LOOK_UP_OWN_POSTS, create_schema
from study.model import PlannedProbe
from study.paths import journal_path
from study.personas import Persona
from study.timeutil import iso

# What a run changes of a probe; the rest is the plan, the same in every journal of it.
PROGRESS = (
    "state", "sent_at", "message_id", "closes_at", "closed_at", "retry_at", "detail",
    "caught_up_from", "scheduled_at", "slot_start_at", "slot_end_at", "followers",
)  # fmt: skip
_STAGE = {"planned": 0, "sending": 1, "sent": 2, "closed": 3, "missed": 3, "failed": 3}
_ATTEMPT = ("started_at", "finished_at", "outcome", "detail")
_REPLY = (
    "channel", "reply_id", "probe_id", "author", "author_id", "text", "created_at", "kind",
    "in_reply_to", "conversation_id", "seen_at", "time_suspect", "language", "persona",
)  # fmt: skip
_EVENT = ("at", "kind", "probe_id", "detail")


@dataclass
class _Copy:
    """What one journal holds, read whole (journals of a study are small)."""

    path: Path
    probes: dict[str, dict[str, Any]]
    attempts: dict[str, list[tuple[Any, ...]]]
    replies: dict[tuple[str, str], dict[str, Any]]
    cursors: dict[str, tuple[str, str]]  # inbox -> (cursor, polled_at)
    events: list[tuple[Any, ...]]
    last_observation: str | None
    extra: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # ratings, brands

    def version(self, probe_id: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        row = self.probes[probe_id]
        return tuple(row.get(c) for c in PROGRESS), self.attempts.get(probe_id, [])

    def moved(self, probe_id: str) -> bool:
        row = self.probes[probe_id]
        return (
            row["state"] != "planned"
            or bool(self.attempts.get(probe_id))
            or row.get("caught_up_from") is not None
            or row.get("retry_at") is not None
        )


@dataclass(frozen=True)
class MergeSummary:
    """What a merge did: how many journals it read and what it took from them."""

    journals: int
    probes: int  # probes whose record came from a merged journal
    replies: int  # replies added
    events: int  # events added

    @property
    def changed(self) -> bool:
        return bool(self.probes or self.replies or self.events)


def merge_journals(
    study_dir: Path,
    sources: Sequence[Path],
    plan: list[PlannedProbe],
    *,
    study_name: str,
    window_hours: float,
    personas: Sequence[Persona],
    now: datetime,
) -> MergeSummary:
    """Merge the journals at `sources` into the study's journal (made from `plan` when there
    is none yet); StudyError, and nothing written, for a journal of another design or a
    conflict."""
    target = journal_path(study_dir)
    design = design_fingerprint(study_dir)
    own = target.resolve() if target.exists() else None
    copies = [_read(p, plan, design) for p in dict.fromkeys(sources) if p.resolve() != own]
    lock = RunLock(study_dir) if target.exists() else None
    if lock is not None:
        lock.acquire()  # no runner writes the journal while it is replaced
    try:
        base = _read(target, plan, design) if target.exists() else None
        changes = _plan_changes(base, copies, plan)
        if base is not None and not changes.any:
            return MergeSummary(len(copies), 0, 0, 0)
        _write(target, base, changes, plan, study_name, window_hours, personas, design, now)
        return MergeSummary(
            len(copies), len(changes.probes), len(changes.replies), len(changes.events)
        )
    finally:
        if lock is not None:
            lock.release()


def _read(path: Path, plan: list[PlannedProbe], design: str) -> _Copy:
    if not path.is_file():
        raise StudyError(f"{path}: no such journal; name the journal.sqlite files to merge")
    con = connect(path, readonly=True)
    try:
        meta = {str(k): str(v) for k, v in con.execute("SELECT key, value FROM meta")}
        if "plan_sha256" not in meta:
            raise errors.imported(path, meta.get("source"))
        if not same_plan(con, plan):
            raise StudyError(
                f"{path}: made from another plan than this study's (the study files or the "
                "seed differ); nothing was merged. Merge only journals of `replybench run` "
                "from copies of the same study folder"
            )
        if meta.get(DESIGN, design) != design:
            raise StudyError(
                f"{path}: made from other study files (study.toml, targets.csv or scripts.csv "
                "differ from this folder's, though the plan is the same); nothing was merged. "
                "Copy the study folder the journal was run from over this one, or merge into "
                "that folder"
            )
        create = {str(r[0]) for r in con.execute("SELECT name FROM sqlite_master")}
        attempts: dict[str, list[tuple[Any, ...]]] = {}
        for r in con.execute("SELECT * FROM attempts ORDER BY attempt_id"):
            attempts.setdefault(r["probe_id"], []).append(tuple(r[c] for c in _ATTEMPT))
        columns = {r[1] for r in con.execute("PRAGMA table_info(replies)")}
        replies = {
            (r["channel"], r["reply_id"]): {c: (r[c] if c in columns else None) for c in _REPLY}
            for r in con.execute("SELECT * FROM replies")
        }
        for key, reply in replies.items():
            reply["persona"] = reply["persona"] or key[0]
        return _Copy(
            path=path,
            probes={r["probe_id"]: dict(r) for r in con.execute("SELECT * FROM probes")},
            attempts=attempts,
            replies=replies,
            cursors={
                str(r[0]): (str(r[1]), str(r[2]))
                for r in con.execute("SELECT channel, cursor, polled_at FROM cursors")
            },
            events=[tuple(r) for r in con.execute(f"SELECT {', '.join(_EVENT)} FROM events")],
            last_observation=meta.get("last_observation"),
            extra={
                table: [tuple(r) for r in con.execute(f"SELECT * FROM {table}")]
                for table in ("ratings", "brands")
                if table in create
            },
        )
    except sqlite3.DatabaseError as e:
        raise errors.unreadable(path, e) from e
    finally:
        con.close()


@dataclass
class _Changes:
    probes: dict[str, _Copy] = field(default_factory=dict)  # probe -> the journal to take
    replies: list[dict[str, Any]] = field(default_factory=list)
    cursors: dict[str, tuple[str, str]] = field(default_factory=dict)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    extra: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    last_observation: str | None = None

    @property
    def any(self) -> bool:
        return bool(
            self.probes
            or self.replies
            or self.cursors
            or self.events
            or self.last_observation
            or any(self.extra.values())
        )


def _plan_changes(base: _Copy | None, copies: list[_Copy], plan: list[PlannedProbe]) -> _Changes:
    """What the merge changes in the study's journal (`base`, None: a new one); StudyError
    for a conflict."""
    out = _Changes()
    everyone = ([base] if base is not None else []) + copies
    for p in plan:
        moved = [c for c in everyone if p.probe_id in c.probes and c.moved(p.probe_id)]
        if not moved:
            continue
        latest = moved[0]
        for other in moved[1:]:
            latest = _later(p.probe_id, latest, other)
        if base is None or latest.version(p.probe_id) != base.version(p.probe_id):
            out.probes[p.probe_id] = latest
    have = dict(base.replies) if base is not None else {}
    for c in copies:
        for key, reply in sorted(c.replies.items()):
            known = have.get(key)
            if known is None:
                have[key] = reply
                out.replies.append(reply)
            elif known["probe_id"] is not None and reply["probe_id"] not in (
                None,
                known["probe_id"],
            ):
                raise StudyError(
                    f"{c.path}: reply {key[1]} on {key[0]} answers probe "
                    f"{reply['probe_id']} there but {known['probe_id']} in another journal; "
                    "nothing was merged. The two journals drove the same persona: merge "
                    "only one of them"
                )
    cursors = dict(base.cursors) if base is not None else {}
    for c in copies:
        for inbox, (cursor, polled_at) in c.cursors.items():
            if inbox not in cursors or polled_at > cursors[inbox][1]:
                cursors[inbox] = out.cursors[inbox] = (cursor, polled_at)
    seen = set(base.events) if base is not None else set()
    for c in copies:
        for e in c.events:
            if e not in seen:
                seen.add(e)
                out.events.append(e)
    for c in copies:
        for table, rows in c.extra.items():
            known = set(base.extra.get(table, [])) if base is not None else set()
            new = [r for r in rows if r not in known]
            out.extra.setdefault(table, []).extend(new) if new else None
    last = base.last_observation if base is not None else None
    for c in copies:
        if c.last_observation is not None and (last is None or c.last_observation > last):
            last = out.last_observation = c.last_observation
    return out


def _later(probe_id: str, one: _Copy, other: _Copy) -> _Copy:
    """Of two journals that both moved a probe, the one further on; StudyError when neither
    is a continuation of the other (two runs drove the same persona)."""
    (row_a, tries_a), (row_b, tries_b) = one.version(probe_id), other.version(probe_id)
    if (row_a, tries_a) == (row_b, tries_b):
        return one
    starts_a, starts_b = [t[0] for t in tries_a], [t[0] for t in tries_b]
    short, long = sorted((starts_a, starts_b), key=len)
    posts = {r[PROGRESS.index("message_id")] for r in (row_a, row_b)} - {None}
    stage_a = (len(tries_a), _STAGE.get(row_a[0], 0))
    stage_b = (len(tries_b), _STAGE.get(row_b[0], 0))
    if long[: len(short)] == short and len(posts) <= 1 and stage_a != stage_b:
        return one if stage_a > stage_b else other
    raise StudyError(
        f"probe {probe_id} was moved differently in {one.path} ({row_a[0]}, "
        f"{len(tries_a)} attempt(s)) and in {other.path} ({row_b[0]}, {len(tries_b)} "
        "attempt(s)); nothing was merged. Each persona must be run from one place: merge the "
        "journal of the run that drove it, and leave out the other"
    )


def _write(
    target: Path,
    base: _Copy | None,
    changes: _Changes,
    plan: list[PlannedProbe],
    study_name: str,
    window_hours: float,
    personas: Sequence[Persona],
    design: str,
    now: datetime,
) -> None:
    """Build the merged journal in a temporary file beside `target`, then rename it over."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".merge", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            if base is not None:
                source = connect(target, readonly=True)
                try:
                    source.backup(con)  # a consistent copy, its WAL included
                finally:
                    source.close()
            con.execute("PRAGMA journal_mode=DELETE")  # one self-contained file until renamed
            con.execute("BEGIN")
            journal = Journal(con, target)
            if base is None:
                initialise(
                    journal,
                    plan,
                    study_name=study_name,
                    window_hours=window_hours,
                    now=now,
                    personas=personas,
                    design=design,
                )
            create_schema(con)
            _apply(con, changes)
            journal._set_meta(LOOK_UP_OWN_POSTS, "yes")  # as a backup: look before sending
            journal._event(
                "merged",
                None,
                f"{len(changes.probes)} probes, {len(changes.replies)} replies",
                iso(now),
            )
            con.execute("COMMIT")
        finally:
            con.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        if base is not None:
            _settle(target)
        os.replace(tmp, target)
    except OSError as e:
        if environment_error(e):
            raise errors.not_written(target, e) from e
        raise
    finally:
        tmp.unlink(missing_ok=True)


def _settle(target: Path) -> None:
    """Fold the journal's WAL into it and remove the WAL, so none is left to be read with
    the file that replaces it (SQLite cannot tell a WAL from another file's)."""
    con = sqlite3.connect(target, isolation_level=None)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
    finally:
        con.close()


def _event_order(event: tuple[Any, ...]) -> tuple[str, str]:
    return str(event[0]), str(event[1])


def _apply(con: sqlite3.Connection, changes: _Changes) -> None:
    sets = ", ".join(f"{c} = ?" for c in PROGRESS)
    for probe_id, source in sorted(changes.probes.items()):
        row, attempts = source.version(probe_id)
        con.execute(f"UPDATE probes SET {sets} WHERE probe_id = ?", (*row, probe_id))
        con.execute("DELETE FROM attempts WHERE probe_id = ?", (probe_id,))
        con.executemany(
            "INSERT INTO attempts(probe_id, started_at, finished_at, outcome, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            [(probe_id, *a) for a in attempts],
        )
    marks = ", ".join("?" for _ in _REPLY)
    con.executemany(
        f"INSERT OR IGNORE INTO replies({', '.join(_REPLY)}) VALUES ({marks})",
        [tuple(r[c] for c in _REPLY) for r in changes.replies],
    )
    con.executemany(
        "INSERT INTO cursors(channel, cursor, polled_at) VALUES (?, ?, ?) "
        "ON CONFLICT(channel) DO UPDATE SET cursor = excluded.cursor, "
        "polled_at = excluded.polled_at",
        [(inbox, cursor, at) for inbox, (cursor, at) in sorted(changes.cursors.items())],
    )
    events = sorted(changes.events, key=_event_order)
    con.executemany("INSERT INTO events(at, kind, probe_id, detail) VALUES (?, ?, ?, ?)", events)
    for table, rows in changes.extra.items():
        for row in rows:
            marks = ", ".join("?" for _ in row)
            con.execute(f"INSERT OR IGNORE INTO {table} VALUES ({marks})", row)
    if changes.last_observation is not None:
        con.execute(
            "INSERT INTO meta(key, value) VALUES ('last_observation', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
            (changes.last_observation,),
        )
