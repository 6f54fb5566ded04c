"""The campaign journal: everything planned, attempted, acknowledged, seen and closed.

SQLite in WAL mode inside the study folder (`journal/journal.sqlite`), so `replybench status`
and the analysis can read while `replybench run` writes. Each state change is one transaction.
The send protocol is what makes a `kill -9` harmless:

1. `begin_attempt` commits state `sending` and an attempt row BEFORE the request leaves;
2. the platform's acknowledgement is committed by `record_sent`;
3. a probe found in state `sending` (a crash between 1 and 2, or a timeout) is reconciled by
   looking the post up on the platform (`record_reconciled` or `record_absent`) before any
   retry, so a probe is never posted twice and nothing the platform acknowledged is lost.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from probes.channels.base import Cursor, Reply, Sent
from study.answers import answered_count
from study.errors import StudyError
from study.journal.file import connect, create_new, environment_error, write_error
from study.journal.schema import AMBIGUOUS_EVENT, LOOK_UP_OWN_POSTS, SCHEMA_VERSION, create_schema
from study.model import PlannedProbe, ProbeState, ReplyKind, Scope
from study.paths import existing_journal, journal_path
from study.plan import plan_json
from study.timeutil import iso, parse_iso, suspect_reply_time

# Attempt outcomes.
PENDING = "pending"  # committed before the request left; a crash leaves it here
ACKNOWLEDGED = "acknowledged"
UNKNOWN = "unknown"  # timeout / dropped connection: maybe applied
RECONCILED = "reconciled"  # an unknown outcome, found posted on the platform
ABSENT = "absent"  # an unknown outcome, looked up and not posted: may be retried
FAILED = "failed"  # certainly not applied (429, connect error): may be retried
REJECTED = "rejected"  # refused for good

AMBIGUOUS = AMBIGUOUS_EVENT  # a private message left unmatched: several probes fit it


def plan_digest(plan: list[PlannedProbe]) -> str:
    return hashlib.sha256(plan_json(plan).encode("utf-8")).hexdigest()


def _digest_as_started(con: sqlite3.Connection, plan: list[PlannedProbe]) -> str:
    """The digest of `plan` with the texts of its manual probes as the journal holds them.

    A manual probe's text once began with its handle (a phone number, say) and no longer
    does: a campaign started with such texts carries on with them, its plan otherwise equal."""
    texts = dict(con.execute("SELECT probe_id, text FROM probes WHERE channel = 'manual'"))
    return plan_digest(
        [
            replace(p, text=texts.get(p.probe_id, p.text)) if p.channel == "manual" else p
            for p in plan
        ]
    )


@dataclass(frozen=True)
class OpenProbe:
    """A sent probe whose window is still open, as the runner's matcher needs it."""

    probe_id: str
    brand: str
    channel: str
    handle: str
    message_id: str
    sent_at: datetime
    closes_at: datetime


class Journal:
    """Read-write access to a study's journal. One runner at a time (`probes.lock`)."""

    def __init__(self, con: sqlite3.Connection, path: Path) -> None:
        self.con = con
        self.path = path
        self._answered: int | None = None  # answered_count, until new replies come in

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def create_or_open(
        cls,
        study_dir: Path,
        plan: list[PlannedProbe],
        *,
        study_name: str,
        window_hours: float,
        now: datetime,
    ) -> Journal:
        """Open the journal, creating it from the plan on first use.

        Refuses a journal made from a different plan: the study files changed after the
        campaign started, and mixing two designs in one journal would corrupt the study.
        """
        path = journal_path(study_dir)
        digest = plan_digest(plan)

        def build(con: sqlite3.Connection) -> None:
            create_schema(con)
            new = cls(con, path)
            new._set_meta("schema_version", SCHEMA_VERSION)
            new._set_meta("study_name", study_name)
            new._set_meta("window_hours", repr(float(window_hours)))
            new._set_meta("plan_sha256", digest)
            new._set_meta("source", "campaign")
            # An earlier journal of this study may have been lost: look before sending.
            new._set_meta(LOOK_UP_OWN_POSTS, "yes")
            con.executemany(
                "INSERT INTO probes (probe_id, brand, country, channel, handle, scope,"
                " script, slot, round, text, scheduled_at, slot_start_at, slot_end_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        p.probe_id, p.brand, p.country, p.channel, p.handle, p.scope.value,
                        p.script, p.slot, p.round, p.text, iso(p.scheduled_at),
                        iso(p.slot_start_at), iso(p.slot_end_at),
                    )
                    for p in plan
                ],
            )  # fmt: skip
            new._event("planned", None, f"{len(plan)} probes", iso(now))

        if not path.exists():
            create_new(path, build)  # False: another process created it meanwhile
        con = connect(path)
        j = cls(con, path)
        try:
            with j.tx():
                create_schema(con)  # an older journal gains the newer columns
            stored = j.meta("plan_sha256")
            source = j.meta("source")
            if stored is None:
                raise StudyError(
                    f"{path}: this journal holds imported data (source = {source}); run the "
                    "campaign in a new study folder"
                )
            if stored not in (digest, _digest_as_started(con, plan)):
                raise StudyError(
                    f"{path}: this journal was made from a different plan (study.toml, "
                    "targets.csv or scripts.csv changed after the campaign started); restore "
                    "the study files, or start a new study folder for the new design"
                )
        except BaseException:
            con.close()
            raise
        return j

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a write the machine refuses (disk full, read-only) rolls it back
        and becomes a StudyError: the journal keeps what was committed before."""
        try:
            self.con.execute("BEGIN IMMEDIATE")
            try:
                yield self.con
                self.con.execute("COMMIT")
            except BaseException:
                if self.con.in_transaction:
                    self.con.execute("ROLLBACK")
                raise
        except (OSError, sqlite3.OperationalError) as e:
            if environment_error(e):
                raise write_error(self.path, e) from e
            raise

    # -- meta and events -----------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def advance_last_observation(self, at: datetime) -> None:
        """Move the journal's last_observation on to `at`, never back: each channel's read
        (a poll, a worksheet import) may come in any order. Inside the caller's transaction."""
        self.con.execute(
            "INSERT INTO meta(key, value) VALUES ('last_observation', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
            (iso(at),),
        )

    def _set_meta(self, key: str, value: str) -> None:
        self.con.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def set_meta(self, key: str, value: str) -> None:
        with self.tx():
            self._set_meta(key, value)

    def drop_meta(self, key: str) -> None:
        with self.tx() as con:
            con.execute("DELETE FROM meta WHERE key = ?", (key,))

    def _event(self, kind: str, probe_id: str | None, detail: str | None, at: str) -> None:
        self.con.execute(
            "INSERT INTO events(at, kind, probe_id, detail) VALUES (?, ?, ?, ?)",
            (at, kind, probe_id, detail),
        )

    def event(self, at: datetime, kind: str, probe_id: str | None = None, detail: str = "") -> None:
        with self.tx():
            self._event(kind, probe_id, detail, iso(at))

    # -- reading probes ------------------------------------------------------------------

    def probe(self, probe_id: str) -> PlannedProbe:
        row = self.con.execute("SELECT * FROM probes WHERE probe_id = ?", (probe_id,)).fetchone()
        if row is None:
            raise KeyError(probe_id)
        return _planned(row)

    # Queries that take `channels` see only those channels' probes (all when None): the
    # runner drives the channels it has adapters for and leaves `manual` probes to people.

    def probes_in(
        self, *states: ProbeState, channels: Collection[str] | None = None
    ) -> list[PlannedProbe]:
        marks = ",".join("?" for _ in states)
        only, names = _only(channels)
        rows = self.con.execute(
            f"SELECT * FROM probes WHERE state IN ({marks}){only} ORDER BY scheduled_at, probe_id",
            [*(s.value for s in states), *names],
        )
        return [_planned(r) for r in rows]

    def due(
        self, now: datetime, limit: int = 1000, *, channels: Collection[str] | None = None
    ) -> list[PlannedProbe]:
        """Planned probes whose time has come (and whose retry time, if any, has passed)."""
        t = iso(now)
        only, names = _only(channels)
        rows = self.con.execute(
            "SELECT * FROM probes WHERE state = 'planned' AND scheduled_at <= ? "
            f"AND (retry_at IS NULL OR retry_at <= ?){only} "
            "ORDER BY scheduled_at, probe_id LIMIT ?",
            (t, t, *names, limit),
        )
        return [_planned(r) for r in rows]

    def next_send_at(self, *, channels: Collection[str] | None = None) -> datetime | None:
        only, names = _only(channels)
        row = self.con.execute(
            "SELECT min(max(scheduled_at, coalesce(retry_at, ''))) FROM probes "
            f"WHERE state = 'planned'{only}",
            names,
        ).fetchone()
        return None if row[0] is None else parse_iso(row[0])

    def open_probes(self) -> list[OpenProbe]:
        rows = self.con.execute(
            "SELECT probe_id, brand, channel, handle, message_id, sent_at, closes_at "
            "FROM probes WHERE state = 'sent' ORDER BY sent_at"
        )
        return [
            OpenProbe(
                r["probe_id"],
                r["brand"],
                r["channel"],
                r["handle"],
                r["message_id"],
                parse_iso(r["sent_at"]),
                parse_iso(r["closes_at"]),
            )
            for r in rows
        ]

    def first_attempt_at(self, probe_id: str) -> datetime | None:
        row = self.con.execute(
            "SELECT min(started_at) FROM attempts WHERE probe_id = ?", (probe_id,)
        ).fetchone()
        return None if row[0] is None else parse_iso(row[0])

    def last_attempt_at(self, probe_id: str) -> datetime | None:
        row = self.con.execute(
            "SELECT max(started_at) FROM attempts WHERE probe_id = ?", (probe_id,)
        ).fetchone()
        return None if row[0] is None else parse_iso(row[0])

    def counts(self, *, channels: Collection[str] | None = None) -> dict[str, int]:
        only, names = _only(channels)
        rows = self.con.execute(
            f"SELECT state, count(*) FROM probes WHERE true{only} GROUP BY state", names
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def answered_count(self) -> int:
        """Probes with a response (study.answers: the brand's, within the window). The
        runner's progress asks on every turn of its loop, so the count is kept until
        record_inbox stores new replies: only they change it (a reply is stored with the
        inbox read that saw it, so it is inside its channel's observation at once)."""
        if self._answered is None:
            self._answered = answered_count(self.con)
        return self._answered

    # -- the send protocol ---------------------------------------------------------------

    def begin_attempt(self, probe_id: str, now: datetime) -> int:
        """Commit that a send is about to leave. Call BEFORE the request."""
        with self.tx() as con:
            row = con.execute("SELECT state FROM probes WHERE probe_id = ?", (probe_id,)).fetchone()
            if row is None or row[0] != ProbeState.PLANNED.value:
                raise RuntimeError(f"probe {probe_id} is {row and row[0]}, not planned")
            con.execute(
                "UPDATE probes SET state = 'sending', retry_at = NULL WHERE probe_id = ?",
                (probe_id,),
            )
            cur = con.execute(
                "INSERT INTO attempts(probe_id, started_at) VALUES (?, ?)", (probe_id, iso(now))
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def record_sent(
        self, attempt_id: int | None, sent: Sent, window: timedelta, *, outcome: str = ACKNOWLEDGED
    ) -> None:
        """The platform acknowledged the post (or reconciliation found it)."""
        with self.tx() as con:
            con.execute(
                "UPDATE probes SET state = 'sent', message_id = ?, sent_at = ?, closes_at = ?, "
                "detail = NULL WHERE probe_id = ? AND state IN ('sending', 'planned')",
                (sent.message_id, iso(sent.sent_at), iso(sent.sent_at + window), sent.probe_id),
            )
            if attempt_id is not None:
                self._finish(attempt_id, outcome, sent.message_id, sent.sent_at)
            else:
                self._finish_open(sent.probe_id, outcome, sent.message_id, sent.sent_at)
            self._event("sent", sent.probe_id, sent.message_id, iso(sent.sent_at))

    def record_unknown(self, attempt_id: int, now: datetime, detail: str) -> None:
        """Maybe posted: the probe stays `sending` until reconciled."""
        with self.tx():
            self._finish(attempt_id, UNKNOWN, detail, now)

    def record_retry(
        self,
        attempt_id: int | None,
        probe_id: str,
        now: datetime,
        retry_at: datetime,
        detail: str,
        *,
        outcome: str = FAILED,
    ) -> None:
        """Certainly not posted: back to `planned`, to be retried at `retry_at`."""
        with self.tx() as con:
            con.execute(
                "UPDATE probes SET state = 'planned', retry_at = ?, detail = ? "
                "WHERE probe_id = ? AND state = 'sending'",
                (iso(ceil_ms(retry_at)), detail, probe_id),
            )
            if attempt_id is not None:
                self._finish(attempt_id, outcome, detail, now)
            else:
                self._finish_open(probe_id, outcome, detail, now)

    def retry_at(self, probe_id: str) -> datetime | None:
        row = self.con.execute(
            "SELECT retry_at FROM probes WHERE probe_id = ?", (probe_id,)
        ).fetchone()
        return None if row is None or row[0] is None else parse_iso(row[0])

    def postpone(self, probe_id: str, retry_at: datetime, detail: str) -> None:
        """Not due before `retry_at`: a planned probe that must first be looked up."""
        with self.tx() as con:
            con.execute(
                "UPDATE probes SET retry_at = ?, detail = ? "
                "WHERE probe_id = ? AND state = 'planned'",
                (iso(ceil_ms(retry_at)), detail, probe_id),
            )

    def record_failed(self, attempt_id: int, probe_id: str, now: datetime, detail: str) -> None:
        """Refused for good: the probe is `failed` and reported, never retried."""
        with self.tx() as con:
            con.execute(
                "UPDATE probes SET state = 'failed', detail = ? WHERE probe_id = ?",
                (detail, probe_id),
            )
            self._finish(attempt_id, REJECTED, detail, now)
            self._event("failed", probe_id, detail, iso(now))

    def record_failed_open(self, probe_id: str, now: datetime, detail: str) -> None:
        """A probe in `sending` whose lookup shows it can never be posted: `failed`."""
        with self.tx() as con:
            con.execute(
                "UPDATE probes SET state = 'failed', detail = ? WHERE probe_id = ?",
                (detail, probe_id),
            )
            self._finish_open(probe_id, REJECTED, detail, now)
            self._event("failed", probe_id, detail, iso(now))

    def last_attempt_detail(self, probe_id: str) -> str:
        row = self.con.execute(
            "SELECT detail FROM attempts WHERE probe_id = ? ORDER BY attempt_id DESC LIMIT 1",
            (probe_id,),
        ).fetchone()
        return "" if row is None or row[0] is None else str(row[0])

    def record_missed(self, probe_ids: Iterable[str], now: datetime) -> int:
        """Planned probes whose slot ended before they could be sent."""
        n = 0
        with self.tx() as con:
            for pid in probe_ids:
                con.execute(
                    "UPDATE probes SET state = 'missed', "
                    "detail = coalesce(detail, 'the slot ended before it could be sent') "
                    "WHERE probe_id = ? AND state = 'planned'",
                    (pid,),
                )
                self._event("missed", pid, None, iso(now))
                n += 1
        return n

    def record_caught_up(self, moved: PlannedProbe, now: datetime) -> None:
        """A planned probe whose slot passed, moved to a later occurrence (study.catch_up)."""
        with self.tx() as con:
            old = con.execute(
                "SELECT scheduled_at FROM probes WHERE probe_id = ? AND state = 'planned'",
                (moved.probe_id,),
            ).fetchone()
            if old is None:
                return
            con.execute(
                "UPDATE probes SET scheduled_at = ?, slot_start_at = ?, slot_end_at = ?, "
                "retry_at = NULL, caught_up_from = coalesce(caught_up_from, scheduled_at) "
                "WHERE probe_id = ?",
                (
                    iso(moved.scheduled_at),
                    iso(moved.slot_start_at),
                    iso(moved.slot_end_at),
                    moved.probe_id,
                ),
            )
            detail = f"from {old[0]} to {iso(moved.scheduled_at)}"
            self._event("caught_up", moved.probe_id, detail, iso(now))

    def account_times(self, probe: PlannedProbe) -> list[datetime]:
        """When the other probes to `probe`'s account go (or went): send time, else schedule.
        Missed probes are left out: they never go."""
        rows = self.con.execute(
            "SELECT coalesce(sent_at, scheduled_at) FROM probes WHERE channel = ? "
            "AND lower(handle) = lower(?) AND probe_id <> ? AND state <> 'missed'",
            (probe.channel, probe.handle, probe.probe_id),
        )
        return sorted(parse_iso(r[0]) for r in rows)

    def overdue(self, now: datetime, *, channels: Collection[str] | None = None) -> list[str]:
        only, names = _only(channels)
        rows = self.con.execute(
            f"SELECT probe_id FROM probes WHERE state = 'planned' AND slot_end_at <= ?{only}",
            (iso(now), *names),
        )
        return [str(r[0]) for r in rows]

    def _finish(self, attempt_id: int, outcome: str, detail: str | None, at: datetime) -> None:
        self.con.execute(
            "UPDATE attempts SET outcome = ?, detail = ?, finished_at = ? WHERE attempt_id = ?",
            (outcome, detail, iso(at), attempt_id),
        )

    def _finish_open(self, probe_id: str, outcome: str, detail: str | None, at: datetime) -> None:
        """Close the probe's unfinished attempts (pending or unknown) after reconciliation."""
        self.con.execute(
            "UPDATE attempts SET outcome = ?, detail = ?, finished_at = ? "
            "WHERE probe_id = ? AND outcome IN ('pending', 'unknown')",
            (outcome, detail, iso(at), probe_id),
        )

    # -- replies, cursors and closing ----------------------------------------------------

    def cursor(self, channel: str) -> Cursor | None:
        row = self.con.execute(
            "SELECT cursor FROM cursors WHERE channel = ?", (channel,)
        ).fetchone()
        if row is None:
            return None
        value = json.loads(row[0])
        assert isinstance(value, dict)
        return {str(k): str(v) for k, v in value.items()}

    def polled_at(self, channel: str) -> datetime | None:
        row = self.con.execute(
            "SELECT polled_at FROM cursors WHERE channel = ?", (channel,)
        ).fetchone()
        return None if row is None else parse_iso(row[0])

    def record_inbox(
        self,
        channel: str,
        matched: list[tuple[Reply, str | None]],
        cursor: Cursor,
        polled_at: datetime,
        *,
        seen_at: datetime | None = None,
        ambiguous: Mapping[str, Sequence[str]] | None = None,
    ) -> int:
        """Store a poll's replies and the cursor after them in one transaction.

        `polled_at` is when the read began (what it covers for sure: the cursor's and
        last_observation's time); `seen_at`, when it returned (each reply's, else
        `polled_at`). `ambiguous` names the private messages left unmatched because several
        probes fit (reply id -> those probes): each new one is an `ambiguous` event."""
        new = 0
        seen = iso(seen_at or polled_at)
        with self.tx() as con:
            for reply, probe_id in matched:
                created, suspect = self._reply_time(
                    reply.created_at, probe_id, seen_at or polled_at
                )
                cur = con.execute(
                    "INSERT OR IGNORE INTO replies(channel, reply_id, probe_id, author, author_id,"
                    " text, created_at, kind, in_reply_to, conversation_id, seen_at,"
                    " time_suspect) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        channel,
                        reply.reply_id,
                        probe_id,
                        reply.author,
                        reply.author_id,
                        reply.text,
                        created,
                        reply.kind.value,
                        reply.in_reply_to,
                        reply.conversation_id,
                        seen,
                        suspect,
                    ),
                )
                new += cur.rowcount
                fit = (ambiguous or {}).get(reply.reply_id)
                if cur.rowcount and fit:
                    detail = f"{channel} {reply.reply_id}: could answer {', '.join(fit)}"
                    self._event(AMBIGUOUS, None, detail, seen)
            if new:
                self._answered = None
            con.execute(
                "INSERT INTO cursors(channel, cursor, polled_at) VALUES (?, ?, ?) "
                "ON CONFLICT(channel) DO UPDATE SET cursor = excluded.cursor, "
                "polled_at = excluded.polled_at",
                (channel, json.dumps(cursor, sort_keys=True), iso(polled_at)),
            )
            self.advance_last_observation(polled_at)
        return new

    def replies(self) -> list[tuple[Reply, str | None]]:
        """Every inbox item recorded, with its probe (if any), oldest first."""
        rows = self.con.execute(
            "SELECT * FROM replies ORDER BY created_at, seen_at, channel, reply_id"
        ).fetchall()
        return [
            (
                Reply(
                    reply_id=r["reply_id"],
                    channel=r["channel"],
                    author=r["author"],
                    author_id=r["author_id"],
                    text=r["text"],
                    created_at=parse_iso(r["created_at"]),
                    kind=ReplyKind(r["kind"]),
                    in_reply_to=r["in_reply_to"],
                    conversation_id=r["conversation_id"],
                ),
                r["probe_id"],
            )
            for r in rows
        ]

    def _reply_time(
        self, created_at: datetime, probe_id: str | None, seen_at: datetime
    ) -> tuple[str, str | None]:
        """The reply's created_at to store, and its platform time when that is suspect
        (`study.timeutil.suspect_reply_time`): then the time it was seen is stored instead."""
        row = self.con.execute(
            "SELECT sent_at FROM probes WHERE probe_id = ?", (probe_id,)
        ).fetchone()
        sent = None if row is None or row[0] is None else parse_iso(row[0])
        if suspect_reply_time(created_at, sent_at=sent, seen_at=seen_at):
            return iso(seen_at), iso(created_at)
        return iso(created_at), None

    def close_windows(self, channel: str, observed_until: datetime) -> int:
        """Close every sent probe whose window ended before the last completed poll."""
        with self.tx() as con:
            rows = con.execute(
                "SELECT probe_id, closes_at FROM probes WHERE state = 'sent' AND channel = ? "
                "AND closes_at <= ?",
                (channel, iso(observed_until)),
            ).fetchall()
            for r in rows:
                con.execute(
                    "UPDATE probes SET state = 'closed', closed_at = closes_at WHERE probe_id = ?",
                    (r["probe_id"],),
                )
                self._event("closed", r["probe_id"], None, r["closes_at"])
        return len(rows)


def _only(channels: Collection[str] | None) -> tuple[str, list[str]]:
    """An SQL condition keeping the probes of `channels` (none when None), and its values."""
    if channels is None:
        return "", []
    names = sorted(channels)
    return f" AND channel IN ({','.join('?' for _ in names)})", names


def ceil_ms(t: datetime) -> datetime:
    """`t` rounded up to the millisecond the journal stores. Rounding a retry time down would
    wake the runner a hair before a rate limit resets, to find it still spent: a busy loop."""
    extra = t.microsecond % 1000
    return t if extra == 0 else t + timedelta(microseconds=1000 - extra)


def _planned(row: sqlite3.Row) -> PlannedProbe:
    return PlannedProbe(
        probe_id=row["probe_id"],
        brand=row["brand"],
        country=row["country"],
        channel=row["channel"],
        handle=row["handle"],
        scope=Scope(row["scope"]),
        script=row["script"],
        slot=row["slot"],
        round=int(row["round"]),
        text=row["text"],
        scheduled_at=parse_iso(row["scheduled_at"]),
        slot_start_at=parse_iso(row["slot_start_at"]),
        slot_end_at=parse_iso(row["slot_end_at"]),
    )


def open_readonly(study_dir: Path) -> sqlite3.Connection:
    """A read-only connection for status and analysis, safe while `run` writes."""
    return connect(existing_journal(study_dir), readonly=True)
