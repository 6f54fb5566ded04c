"""Probes sent by hand in the journal: a filled worksheet's rows recorded as the runner records
a probe it sent (see `probes.channels.manual.worksheet`), and a send recorded earlier with a
time out of range undone.

An import is the manual channel's inbox read: its time goes into `cursors` (the analysis
censors manual probes there) and moves the journal's `last_observation` on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from study.journal.campaign import Journal
from study.journal.sends import ACKNOWLEDGED
from study.timeutil import iso

MANUAL = "manual"
BY_HAND = "recorded by hand"


@dataclass(frozen=True)
class HandRow:
    """One filled row of a worksheet, checked."""

    line: int
    probe_id: str
    sent_at: datetime
    replied_at: datetime | None
    kind: str
    reply_text: str
    note: str


@dataclass(frozen=True)
class HandProbe:
    """A probe as the journal has it, with its reply recorded by hand if any."""

    channel: str
    state: str
    sent_at: str | None
    reply: tuple[str, str, str] | None  # created_at, kind, text

    @property
    def reply_at(self) -> str | None:
        return None if self.reply is None else self.reply[0]


def hand_probes(journal: Journal) -> dict[str, HandProbe]:
    """Every probe of the journal (any channel: a worksheet row may name any), by id."""
    replies = {
        str(r["probe_id"]): (str(r["created_at"]), str(r["kind"]), str(r["text"]))
        for r in journal.con.execute(
            "SELECT probe_id, created_at, kind, text FROM replies WHERE channel = ? "
            "AND reply_id = probe_id || '-reply'",
            (MANUAL,),
        )
    }
    return {
        str(r["probe_id"]): HandProbe(
            str(r["channel"]), str(r["state"]), r["sent_at"], replies.get(str(r["probe_id"]))
        )
        for r in journal.con.execute("SELECT probe_id, channel, state, sent_at FROM probes")
    }


def record_by_hand(
    journal: Journal,
    sends: list[HandRow],
    replies: list[HandRow],
    now: datetime,
    source: str,
    sheet: Collection[str] = (),
) -> int:
    """Record the new sends and replies and close the windows that ended by `now`, as the
    runner would; how many windows closed. Writes nothing when nothing changes.

    `sheet` holds the probe ids of the worksheet's rows: the import observes the inboxes of
    their personas only (a manual persona's sheet says nothing of another's replies); none
    given, every manual persona's."""
    window = timedelta(hours=float(journal.meta("window_hours") or "nan"))
    senders = _senders(journal, sheet)
    closing = [c for c in map(journal.next_close, senders) if c is not None]
    if not sends and not replies and (not closing or min(closing) > now):
        return 0
    with journal.tx() as con:
        for r in sends:
            _forget_send(journal, r.probe_id, now)
            con.execute(
                "UPDATE probes SET state = 'sent', sent_at = ?, closes_at = ?, detail = ? "
                "WHERE probe_id = ? AND state = 'planned'",
                (iso(r.sent_at), iso(r.sent_at + window), r.note or None, r.probe_id),
            )
            con.execute(
                "INSERT INTO attempts(probe_id, started_at, finished_at, outcome, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                (r.probe_id, iso(r.sent_at), iso(r.sent_at), ACKNOWLEDGED, BY_HAND),
            )
            detail = f"{BY_HAND} ({source})" + (f": {r.note}" if r.note else "")
            journal._event("sent", r.probe_id, detail, iso(r.sent_at))
        for r in replies:
            assert r.replied_at is not None
            probe = journal.probe(r.probe_id)
            handle = probe.handle
            con.execute(
                "INSERT OR REPLACE INTO replies(channel, reply_id, probe_id, author, author_id, "
                "text, created_at, kind, seen_at, persona) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    MANUAL, f"{r.probe_id}-reply", r.probe_id, handle, handle, r.reply_text,
                    iso(r.replied_at), r.kind, iso(now), probe.sender,
                ),
            )  # fmt: skip
        closed = sum(journal._close_windows(sender, now) for sender in senders)
        for inbox in sorted({MANUAL, *senders}):
            _observe(journal, inbox, now)
    return closed


def _senders(journal: Journal, sheet: Collection[str]) -> list[str]:
    """Who sends the manual probes of the sheet (all of them when `sheet` is empty): each
    persona of the manual channel (people, each with their own sheet), or the channel's one
    account ("manual")."""
    rows = journal.con.execute(
        "SELECT DISTINCT probe_id, coalesce(persona, channel) FROM probes WHERE channel = ?",
        (MANUAL,),
    ).fetchall()
    ids = set(sheet)
    named = {str(r[1]) for r in rows if not ids or str(r[0]) in ids}
    return sorted(named) or [MANUAL]


def _forget_send(journal: Journal, probe_id: str, now: datetime) -> None:
    """Undo a send recorded by hand with a time out of range (nothing for a planned probe), so
    the corrected row is recorded as new; an event keeps what was there."""
    row = journal.con.execute(
        "SELECT sent_at FROM probes WHERE probe_id = ? AND state IN ('sent', 'closed')",
        (probe_id,),
    ).fetchone()
    if row is None:
        return
    journal.con.execute(
        "UPDATE probes SET state = 'planned', sent_at = NULL, closes_at = NULL, "
        "closed_at = NULL WHERE probe_id = ?",
        (probe_id,),
    )
    journal.con.execute(
        "DELETE FROM attempts WHERE probe_id = ? AND detail = ?", (probe_id, BY_HAND)
    )
    journal.con.execute(
        "DELETE FROM events WHERE probe_id = ? AND kind IN ('sent', 'closed')", (probe_id,)
    )
    journal.con.execute(
        "DELETE FROM replies WHERE channel = ? AND reply_id = ?", (MANUAL, f"{probe_id}-reply")
    )
    journal._event("corrected", probe_id, f"sent_at {row['sent_at']} was out of range", iso(now))


def _observe(journal: Journal, inbox: str, now: datetime) -> None:
    """An import says: as of now, these are the by-hand replies seen. That is the manual
    channel's observation time (its row in `cursors`, as the runner keeps one per inbox it
    reads; and one per manual persona), and the journal's as-of time moves on to it: the
    analysis censors each channel's probes at its own channel's last observation, so the
    runner's channels are not taken as watched until now."""
    journal.con.execute(
        "INSERT INTO cursors(channel, cursor, polled_at) VALUES (?, '{}', ?) "
        "ON CONFLICT(channel) DO UPDATE SET polled_at = max(polled_at, excluded.polled_at)",
        (inbox, iso(now)),
    )
    journal.advance_last_observation(now)
