"""The journal's probes: the plan as the runner reads it, and the changes to a probe's
schedule (missed, caught up). The send protocol's changes are `study.journal.sends`.

Queries that take `channels` see only the probes those accounts send (all when None): a
persona's name, or a channel's for its one account (study.personas). The runner drives the
accounts it has adapters for and leaves `manual` probes to people.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from study.journal.store import JournalStore
from study.model import PlannedProbe, ProbeState, Scope
from study.timeutil import iso, parse_iso


@dataclass(frozen=True)
class ProbeRecord:
    """A probe as the journal has it now: whose, its state, and its post once sent."""

    probe_id: str
    brand: str
    country: str
    channel: str
    handle: str
    state: str
    message_id: str | None  # the platform's id of the post (None: not posted, or by hand)
    sent_at: datetime | None
    closes_at: datetime | None
    sender: str = ""  # the persona that sends it (a channel's name for its one account)


class ProbeLog(JournalStore):
    """Reading the journal's probes, and moving the planned ones that cannot go as planned."""

    def probe(self, probe_id: str) -> PlannedProbe:
        row = self.con.execute("SELECT * FROM probes WHERE probe_id = ?", (probe_id,)).fetchone()
        if row is None:
            raise KeyError(probe_id)
        return _planned(row)

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

    def records(self, *, sent: bool = False) -> list[ProbeRecord]:
        """Every probe (by schedule), or with `sent` only those sent (by send time)."""
        query = (
            "SELECT * FROM probes WHERE sent_at IS NOT NULL ORDER BY sent_at, probe_id"
            if sent
            else "SELECT * FROM probes ORDER BY scheduled_at, probe_id"
        )
        return [
            ProbeRecord(
                probe_id=str(r["probe_id"]),
                brand=str(r["brand"]),
                country=str(r["country"]),
                channel=str(r["channel"]),
                handle=str(r["handle"]),
                state=str(r["state"]),
                message_id=r["message_id"],
                sent_at=None if r["sent_at"] is None else parse_iso(r["sent_at"]),
                closes_at=None if r["closes_at"] is None else parse_iso(r["closes_at"]),
                sender=_persona(r) or str(r["channel"]),
            )
            for r in self.con.execute(query)
        ]

    def channels(self, *, state: ProbeState | None = None) -> list[str]:
        """The channels of the journal's probes (of those in `state`), by name."""
        where, values = ("", ()) if state is None else (" WHERE state = ?", (state.value,))
        rows = self.con.execute(
            f"SELECT DISTINCT channel FROM probes{where} ORDER BY channel", values
        )
        return [str(r[0]) for r in rows]

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

    def senders(self, *, state: ProbeState | None = None) -> list[str]:
        """The accounts that send the journal's probes (of those in `state`), by name: each
        persona, or a channel's name for its one account."""
        where, values = ("", ()) if state is None else (" WHERE state = ?", (state.value,))
        rows = self.con.execute(
            f"SELECT DISTINCT coalesce(persona, channel) FROM probes{where} ORDER BY 1", values
        )
        return [str(r[0]) for r in rows]

    def next_send_at(
        self, *, channels: Collection[str] | None = None, after: datetime | None = None
    ) -> datetime | None:
        """When the next planned probe is due (its retry time, if later); with `after`, the
        first due after it (the ones due by then wait for something else: a person)."""
        only, names = _only(channels)
        later, since = ("", []) if after is None else (" WHERE due > ?", [iso(after)])
        row = self.con.execute(
            "SELECT min(due) FROM (SELECT max(scheduled_at, coalesce(retry_at, '')) AS due "
            f"FROM probes WHERE state = 'planned'{only}){later}",
            [*names, *since],
        ).fetchone()
        return None if row[0] is None else parse_iso(row[0])

    def upcoming(
        self, now: datetime, limit: int, *, channels: Collection[str] | None = None
    ) -> list[PlannedProbe]:
        """The planned probes not yet due at `now`, soonest first."""
        only, names = _only(channels)
        rows = self.con.execute(
            f"SELECT * FROM probes WHERE state = 'planned' AND scheduled_at > ?{only} "
            "ORDER BY scheduled_at, probe_id LIMIT ?",
            (iso(now), *names, limit),
        )
        return [_planned(r) for r in rows]

    def next_close(self, channel: str) -> datetime | None:
        """When the first open window of the persona `channel` (a channel's name for its one
        account) ends, or None when none is open."""
        row = self.con.execute(
            "SELECT min(closes_at) FROM probes WHERE state = 'sent' "
            "AND coalesce(persona, channel) = ?",
            (channel,),
        ).fetchone()
        return None if row[0] is None else parse_iso(row[0])

    def counts(self, *, channels: Collection[str] | None = None) -> dict[str, int]:
        only, names = _only(channels)
        rows = self.con.execute(
            f"SELECT state, count(*) FROM probes WHERE true{only} GROUP BY state", names
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def overdue(self, now: datetime, *, channels: Collection[str] | None = None) -> list[str]:
        only, names = _only(channels)
        rows = self.con.execute(
            f"SELECT probe_id FROM probes WHERE state = 'planned' AND slot_end_at <= ?{only}",
            (iso(now), *names),
        )
        return [str(r[0]) for r in rows]

    def account_times(self, probe: PlannedProbe) -> list[datetime]:
        """When the other probes to `probe`'s account go (or went): send time, else schedule.
        Missed probes are left out: they never go."""
        rows = self.con.execute(
            "SELECT coalesce(sent_at, scheduled_at) FROM probes WHERE channel = ? "
            "AND lower(handle) = lower(?) AND probe_id <> ? AND state <> 'missed'",
            (probe.channel, probe.handle, probe.probe_id),
        )
        return sorted(parse_iso(r[0]) for r in rows)

    def sender_times(self, probe: PlannedProbe) -> list[datetime]:
        """When the other probes of `probe`'s persona go (or went), as `account_times`: the
        persona's own spacing and daily cap are kept from these."""
        rows = self.con.execute(
            "SELECT coalesce(sent_at, scheduled_at) FROM probes WHERE "
            "coalesce(persona, channel) = ? AND probe_id <> ? AND state <> 'missed'",
            (probe.sender, probe.probe_id),
        )
        return sorted(parse_iso(r[0]) for r in rows)

    # -- schedule changes ----------------------------------------------------------------

    def record_missed(
        self, probe_ids: Iterable[str], now: datetime, reason: str | None = None
    ) -> int:
        """Planned probes whose slot ended before they could be sent, or (with a `reason`,
        e.g. not confirmed by a person) that are not to be sent."""
        n = 0
        with self.tx() as con:
            for pid in probe_ids:
                con.execute(
                    "UPDATE probes SET state = 'missed', detail = coalesce(?, detail, "
                    "'the slot ended before it could be sent') "
                    "WHERE probe_id = ? AND state = 'planned'",
                    (reason, pid),
                )
                self._event("missed", pid, reason, iso(now))
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


def _only(channels: Collection[str] | None) -> tuple[str, list[str]]:
    """An SQL condition keeping the probes of `channels` (none when None), and its values."""
    if channels is None:
        return "", []
    names = sorted(channels)
    return f" AND coalesce(persona, channel) IN ({','.join('?' for _ in names)})", names


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
        persona=_persona(row),
    )


def _persona(row: sqlite3.Row) -> str:
    """The row's persona as `PlannedProbe.persona` has it: "" for a channel's one account."""
    try:
        persona = row["persona"]
    except IndexError:  # a journal made before personas, opened read-only
        persona = None
    return "" if persona in (None, row["channel"]) else str(persona)
