"""A campaign's state, read from its journal by any process, while `run` runs or after."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from study.journal.campaign import Journal
from study.journal.lock import running_pid
from study.journal.schema import AMBIGUOUS_EVENT, has_column
from study.journal.sends import RECONCILED
from study.model import ProbeState
from study.plan_text import CHANNEL_KINDS
from study.timeutil import parse_iso

_CHANNELS = set(CHANNEL_KINDS)  # the names of channels' own accounts: no persona to show


@dataclass(frozen=True)
class Status:
    study: str
    window_hours: float
    running_pid: int | None
    probes: int
    states: dict[str, int]
    answered: int  # probes with a response so far (study.journal.answers: the brand's, in time)
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
    # persona -> its probes by state (a channel's name for its one account), e.g. after
    # `replybench merge` joined the journals of a team's `run --persona` runs
    personas: dict[str, dict[str, int]] = field(default_factory=dict)

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
    pid = running_pid(study_dir)  # before connecting: see study.journal.lock
    journal = Journal.read_only(study_dir)
    con = journal.con
    try:
        meta = {str(r[0]): str(r[1]) for r in con.execute("SELECT key, value FROM meta")}
        states = dict(sorted(journal.counts().items()))

        def one(sql: str, *values: str) -> int:
            return int(con.execute(sql, values).fetchone()[0])

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
            answered=journal.answered_count(),
            replies=one("SELECT count(*) FROM replies"),
            unmatched_replies=one("SELECT count(*) FROM replies WHERE probe_id IS NULL"),
            ambiguous_dms=one("SELECT count(*) FROM events WHERE kind = ?", AMBIGUOUS_EVENT),
            attempts=one("SELECT count(*) FROM attempts"),
            unknown_outcomes=states.get(ProbeState.SENDING.value, 0),
            reconciled=journal.attempts_ending(RECONCILED),
            next_send_at=None if nxt is None else str(nxt),
            last_observation=meta.get("last_observation"),
            inbox_reads=journal.inbox_reads(),
            progress=json.loads(meta.get("progress", "{}")),
            planned_until=con.execute(
                "SELECT max(slot_end_at) FROM probes WHERE state = 'planned'"
            ).fetchone()[0],
            health=json.loads(meta.get("health", "{}")),
            inbox_failures=journal.inbox_failures(),
            personas=_by_persona(con),
        )
    finally:
        journal.close()


def _by_persona(con: sqlite3.Connection) -> dict[str, dict[str, int]]:
    sender = "coalesce(persona, channel)" if has_column(con, "probes", "persona") else "channel"
    out: dict[str, dict[str, int]] = {}
    rows = con.execute(f"SELECT {sender}, state, count(*) FROM probes GROUP BY 1, 2 ORDER BY 1, 2")
    for name, state, n in rows:
        out.setdefault(str(name), {})[str(state)] = int(n)
    return out


def persona_lines(s: Status) -> list[str]:
    """Each persona's progress, when the study has more than one account on a channel."""
    if len(s.personas) <= 1 or set(s.personas) <= _CHANNELS:
        return []
    return [
        f"persona {name}: "
        + ", ".join(f"{k} {v}" for k, v in states.items())
        + f" (of {sum(states.values())})"
        for name, states in s.personas.items()
    ]


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
