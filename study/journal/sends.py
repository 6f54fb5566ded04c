"""The send protocol: what makes a `kill -9` of the runner harmless.

1. `begin_attempt` commits state `sending` and an attempt row BEFORE the request leaves;
2. the platform's acknowledgement is committed by `record_sent`;
3. a probe found in state `sending` (a crash between 1 and 2, or a timeout) is reconciled by
   looking the post up on the platform (`record_sent` with outcome `reconciled`, or
   `record_retry` with outcome `absent`) before any retry, so a probe is never posted twice
   and nothing the platform acknowledged is lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from study.journal.store import JournalStore
from study.model import ProbeState, Sent
from study.timeutil import iso, parse_iso

# Attempt outcomes.
PENDING = "pending"  # committed before the request left; a crash leaves it here
ACKNOWLEDGED = "acknowledged"
UNKNOWN = "unknown"  # timeout / dropped connection: maybe applied
RECONCILED = "reconciled"  # an unknown outcome, found posted on the platform
ABSENT = "absent"  # an unknown outcome, looked up and not posted: may be retried
FAILED = "failed"  # certainly not applied (429, connect error): may be retried
REJECTED = "rejected"  # refused for good

DUPLICATE = "duplicate"  # attempt detail prefix: refused as duplicate content


class SendLog(JournalStore):
    """The attempts to send each probe, and the probe's state as they end."""

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
                "detail = NULL, followers = coalesce(?, followers) "
                "WHERE probe_id = ? AND state IN ('sending', 'planned')",
                (
                    sent.message_id,
                    iso(sent.sent_at),
                    iso(sent.sent_at + window),
                    sent.followers,
                    sent.probe_id,
                ),
            )
            self._finish(attempt_id, sent.probe_id, outcome, sent.message_id, sent.sent_at)
            self._event("sent", sent.probe_id, sent.message_id, iso(sent.sent_at))

    def record_unknown(self, attempt_id: int, now: datetime, detail: str) -> None:
        """Maybe posted: the probe stays `sending` until reconciled."""
        with self.tx():
            self._end(attempt_id, UNKNOWN, detail, now)

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
            self._finish(attempt_id, probe_id, outcome, detail, now)

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

    def record_failed(
        self, attempt_id: int | None, probe_id: str, now: datetime, detail: str
    ) -> None:
        """Refused for good, or (`attempt_id` None: a probe in `sending`) looked up and found
        never to be postable: the probe is `failed` and reported, never retried."""
        with self.tx() as con:
            con.execute(
                "UPDATE probes SET state = 'failed', detail = ? WHERE probe_id = ?",
                (detail, probe_id),
            )
            self._finish(attempt_id, probe_id, REJECTED, detail, now)
            self._event("failed", probe_id, detail, iso(now))

    # -- what the attempts say -----------------------------------------------------------

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

    def last_attempt_detail(self, probe_id: str) -> str:
        row = self.con.execute(
            "SELECT detail FROM attempts WHERE probe_id = ? ORDER BY attempt_id DESC LIMIT 1",
            (probe_id,),
        ).fetchone()
        return "" if row is None or row[0] is None else str(row[0])

    def refused_as_duplicate(self, probe_id: str) -> bool:
        """Whether the probe's last send was refused as a duplicate (detail `DUPLICATE`)."""
        return self.last_attempt_detail(probe_id).startswith(DUPLICATE)

    def duplicate_after_unknown(self, probe_id: str) -> bool:
        """Whether the probe's last send was refused as a duplicate after an earlier send of
        unknown outcome (cut off, or looked up in vain): then that send did get through."""
        if not self.refused_as_duplicate(probe_id):
            return False
        row = self.con.execute(
            "SELECT count(*) FROM attempts WHERE probe_id = ? "
            "AND outcome IN ('pending', 'unknown', 'absent') AND coalesce(detail, '') NOT LIKE ?",
            (probe_id, f"{DUPLICATE}%"),
        ).fetchone()
        return int(row[0]) > 0

    def attempts_ending(self, outcome: str) -> int:
        """How many attempts ended with `outcome` (e.g. `RECONCILED`)."""
        row = self.con.execute(
            "SELECT count(*) FROM attempts WHERE outcome = ?", (outcome,)
        ).fetchone()
        return int(row[0])

    def _finish(
        self, attempt_id: int | None, probe_id: str, outcome: str, detail: str | None, at: datetime
    ) -> None:
        """End attempt `attempt_id`, or (None, after a lookup) every unfinished attempt of the
        probe, pending or unknown."""
        if attempt_id is not None:
            self._end(attempt_id, outcome, detail, at)
            return
        self.con.execute(
            "UPDATE attempts SET outcome = ?, detail = ?, finished_at = ? "
            "WHERE probe_id = ? AND outcome IN ('pending', 'unknown')",
            (outcome, detail, iso(at), probe_id),
        )

    def _end(self, attempt_id: int, outcome: str, detail: str | None, at: datetime) -> None:
        self.con.execute(
            "UPDATE attempts SET outcome = ?, detail = ?, finished_at = ? WHERE attempt_id = ?",
            (outcome, detail, iso(at), attempt_id),
        )


def ceil_ms(t: datetime) -> datetime:
    """`t` rounded up to the millisecond the journal stores. Rounding a retry time down would
    wake the runner a hair before a rate limit resets, to find it still spent: a busy loop."""
    extra = t.microsecond % 1000
    return t if extra == 0 else t + timedelta(microseconds=1000 - extra)
