"""The journal's inbox: the replies each poll saw, the cursor after them, and the windows
closed once a poll has seen past their end.

A poll's replies and its cursor are stored in one transaction, so a crash re-reads, never
skips. A reply's platform time that is not to be believed (`study.timeutil.suspect_reply_time`)
is kept in `time_suspect`, and the time it was seen stored as its `created_at`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from study.journal.answers import answered_count
from study.journal.schema import AMBIGUOUS_EVENT
from study.journal.store import JournalStore
from study.model import Cursor, Reply, ReplyKind
from study.timeutil import iso, parse_iso, suspect_reply_time

INBOX_FAILED = "inbox_failed"  # the event of a failed inbox read; detail "channel: why"


class InboxLog(JournalStore):
    """The replies, cursors and window closings of the channels' inbox reads."""

    _answered: int | None = None  # answered_count, until new replies come in

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

    def inbox_reads(self) -> dict[str, str]:
        """channel -> when its inbox was last read completely (or a worksheet imported), as
        the journal's ISO 8601 text, by channel."""
        rows = self.con.execute("SELECT channel, polled_at FROM cursors ORDER BY channel")
        return {str(c): str(at) for c, at in rows}

    def answered_count(self) -> int:
        """Probes with a response (study.journal.answers: the brand's, within the window).
        The runner's progress asks on every turn of its loop, so the count is kept until
        record_inbox stores new replies: only they change it (a reply is stored with the
        inbox read that saw it, so it is inside its channel's observation at once)."""
        if self._answered is None:
            self._answered = answered_count(self.con)
        return self._answered

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
        """Store a poll's replies and the cursor after them in one transaction. `channel`
        names the inbox read: the persona's (a channel's name for its one account).

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
                    " time_suspect, persona) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        reply.channel,
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
                        channel,
                    ),
                )
                new += cur.rowcount
                fit = (ambiguous or {}).get(reply.reply_id)
                if cur.rowcount and fit:
                    detail = f"{channel} {reply.reply_id}: could answer {', '.join(fit)}"
                    self._event(AMBIGUOUS_EVENT, None, detail, seen)
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
        return [(reply, probe_id) for _, reply, probe_id in self.inbox_items()]

    def inbox_items(self) -> list[tuple[str, Reply, str | None]]:
        """Every inbox item recorded, with the inbox (persona) that saw it and its probe (if
        any), oldest first."""
        rows = self.con.execute(
            "SELECT *, coalesce(persona, channel) AS inbox FROM replies "
            "ORDER BY created_at, seen_at, channel, reply_id"
        ).fetchall()
        return [
            (
                str(r["inbox"]),
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
        with self.tx():
            return self._close_windows(channel, observed_until)

    def _close_windows(self, channel: str, observed_until: datetime) -> int:
        """`close_windows` inside the caller's transaction."""
        rows = self.con.execute(
            "SELECT probe_id, closes_at FROM probes WHERE state = 'sent' "
            "AND coalesce(persona, channel) = ? "
            "AND closes_at <= ?",
            (channel, iso(observed_until)),
        ).fetchall()
        for r in rows:
            self.con.execute(
                "UPDATE probes SET state = 'closed', closed_at = closes_at WHERE probe_id = ?",
                (r["probe_id"],),
            )
            self._event("closed", r["probe_id"], None, r["closes_at"])
        return len(rows)

    def record_inbox_failure(self, channel: str, at: datetime, why: str) -> None:
        """An inbox read of `channel` that failed at `at`: its probes stay censored at its
        last good read (its cursor row is untouched); an `inbox_failed` event says why."""
        self.event(at, INBOX_FAILED, None, f"{channel}: {why}")

    def inbox_failures(self) -> dict[str, str]:
        """Channels whose inbox reads failed after their last good read, each with
        "since <first failure>: <last failure's reason>"."""
        good = self.inbox_reads()
        failing: dict[str, tuple[str, str]] = {}
        rows = self.con.execute(
            "SELECT at, detail FROM events WHERE kind = ? ORDER BY seq", (INBOX_FAILED,)
        )
        for at, detail in rows:
            channel, _, reason = str(detail).partition(": ")
            if str(at) <= good.get(channel, ""):
                continue  # a good read came after it
            since = failing.get(channel, (str(at), ""))[0]
            failing[channel] = (since, reason)
        return {c: f"since {since}: {reason}" for c, (since, reason) in sorted(failing.items())}
