"""A campaign's state, read from its journal by any process, while `run` runs or after."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from probes.journal import AMBIGUOUS, open_readonly
from probes.lock import running_pid
from study.answers import answered_count
from study.timeutil import parse_iso


@dataclass(frozen=True)
class Status:
    study: str
    window_hours: float
    running_pid: int | None
    probes: int
    states: dict[str, int]
    answered: int  # probes with a response so far (study.answers: the brand's, in the window)
    replies: int  # inbox items recorded, matched or not
    unmatched_replies: int
    ambiguous_dms: int  # unmatched private messages that several probes fit (probes.matching)
    attempts: int
    unknown_outcomes: int  # sends now waiting to be reconciled
    reconciled: int  # sends whose outcome was learned by looking the post up
    next_send_at: str | None
    last_observation: str | None
    inbox_reads: dict[str, str]  # channel -> its last completed inbox read (or worksheet import)
    progress: dict[str, object]  # the runner's last progress note and rate-limit state
    planned_until: str | None = None  # the latest slot end of the probes still planned
    # The runner's health (probes.health): unreachable channels, and how the last run stopped.
    health: dict[str, object] = field(default_factory=dict)
    # channel -> "since <first failure>: <last failure's reason>" for a channel whose inbox
    # reads have failed since its last good one (its probes are censored there meanwhile)
    inbox_failures: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def period_warning(self, now: datetime) -> str | None:
        """A warning when the sending period is over but probes are still planned."""
        if self.planned_until is None or parse_iso(self.planned_until) > now:
            return None
        n = self.states.get("planned", 0)
        return (
            f"warning: the sending period is over: the last slot of the {n} probe(s) still "
            f"planned ended at {self.planned_until}, before now; they can no longer be sent "
            "in their slots (`replybench run` records them as missed)"
        )


def read_status(study_dir: Path) -> Status:
    pid = running_pid(study_dir)  # before connecting: see probes.lock
    con = open_readonly(study_dir)
    try:
        meta = {str(r[0]): str(r[1]) for r in con.execute("SELECT key, value FROM meta")}
        states = {
            str(r[0]): int(r[1])
            for r in con.execute("SELECT state, count(*) FROM probes GROUP BY state ORDER BY state")
        }

        def one(sql: str) -> int:
            return int(con.execute(sql).fetchone()[0])

        nxt = con.execute(
            "SELECT min(max(scheduled_at, coalesce(retry_at, ''))) FROM probes "
            "WHERE state = 'planned' AND channel <> 'manual'"  # people send those
        ).fetchone()[0]
        return Status(
            study=meta.get("study_name", ""),
            window_hours=float(meta.get("window_hours", "0")),
            running_pid=pid,
            probes=sum(states.values()),
            states=states,
            answered=answered_count(con),
            replies=one("SELECT count(*) FROM replies"),
            unmatched_replies=one("SELECT count(*) FROM replies WHERE probe_id IS NULL"),
            ambiguous_dms=int(
                con.execute("SELECT count(*) FROM events WHERE kind = ?", (AMBIGUOUS,)).fetchone()[
                    0
                ]
            ),
            attempts=one("SELECT count(*) FROM attempts"),
            unknown_outcomes=one("SELECT count(*) FROM probes WHERE state = 'sending'"),
            reconciled=one("SELECT count(*) FROM attempts WHERE outcome = 'reconciled'"),
            next_send_at=None if nxt is None else str(nxt),
            last_observation=meta.get("last_observation"),
            inbox_reads={
                str(c): str(at)
                for c, at in con.execute("SELECT channel, polled_at FROM cursors ORDER BY channel")
            },
            progress=json.loads(meta.get("progress", "{}")),
            planned_until=con.execute(
                "SELECT max(slot_end_at) FROM probes WHERE state = 'planned'"
            ).fetchone()[0],
            health=json.loads(meta.get("health", "{}")),
            inbox_failures=_inbox_failures(con),
        )
    finally:
        con.close()


def health_lines(s: Status) -> list[str]:
    """The runner's health in words: what it cannot reach, since when and what it will do,
    or why the last run stopped. Empty when all is well."""
    stopped = s.health.get("stopped")
    if isinstance(stopped, dict) and not s.running_pid:
        return [
            f"health: the runner stopped at {_hm(stopped['at'])} with exit code "
            f"{stopped['exit_code']}: {stopped['reason']}; run it again to resume (probes whose "
            "slot passed are caught up where the study allows)"
        ]
    out = []
    unreachable = s.health.get("unreachable")
    for channel, u in sorted(unreachable.items()) if isinstance(unreachable, dict) else []:
        line = (
            f"health: cannot reach {channel} since {_hm(u['since'])} ({u['failures']} failed "
            f"requests; last: {u['detail']})"
        )
        if s.running_pid:
            line += f"; retrying, and exits with code 75 at {_hm(u['exits_at'])} if still cut off"
        else:
            line += "; the runner is not running: start it again to resume"
        out.append(line)
    return out


def _hm(at: object) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM UTC'."""
    text = str(at)
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 else text


def _inbox_failures(con: sqlite3.Connection) -> dict[str, str]:
    """Channels whose inbox reads failed after their last good read (runner's
    `inbox_failed` events, detail "channel: reason"), with since when and the last reason."""
    good = {str(c): str(at) for c, at in con.execute("SELECT channel, polled_at FROM cursors")}
    failing: dict[str, tuple[str, str]] = {}
    rows = con.execute("SELECT at, detail FROM events WHERE kind = 'inbox_failed' ORDER BY seq")
    for at, detail in rows:
        channel, _, reason = str(detail).partition(": ")
        if str(at) <= good.get(channel, ""):
            continue  # a good read came after it
        since = failing.get(channel, (str(at), ""))[0]
        failing[channel] = (since, reason)
    return {c: f"since {since}: {reason}" for c, (since, reason) in sorted(failing.items())}
