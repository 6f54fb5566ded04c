"""An open journal: its connection, its transactions, its meta table and its event log.

The base of `study.journal.campaign.Journal`; the writes and reads of each table are the
mixins beside it (`probes`, `sends`, `inbox`), each on this one connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from study.journal import errors
from study.journal.file import environment_error
from study.timeutil import iso


def put_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    """Set a meta value (inside the caller's transaction)."""
    con.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def add_event(
    con: sqlite3.Connection, at: str, kind: str, probe_id: str | None, detail: str | None
) -> None:
    """Append to the event log (inside the caller's transaction)."""
    con.execute(
        "INSERT INTO events(at, kind, probe_id, detail) VALUES (?, ?, ?, ?)",
        (at, kind, probe_id, detail),
    )


class JournalStore:
    """One connection to a study's journal and the transactions on it."""

    def __init__(self, con: sqlite3.Connection, path: Path) -> None:
        self.con = con
        self.path = path

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
                raise errors.not_written(self.path, e) from e
            raise

    # -- meta ----------------------------------------------------------------------------

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
        put_meta(self.con, key, value)

    def set_meta(self, key: str, value: str) -> None:
        with self.tx():
            self._set_meta(key, value)

    def drop_meta(self, key: str) -> None:
        with self.tx() as con:
            con.execute("DELETE FROM meta WHERE key = ?", (key,))

    # -- events --------------------------------------------------------------------------

    def _event(self, kind: str, probe_id: str | None, detail: str | None, at: str) -> None:
        add_event(self.con, at, kind, probe_id, detail)

    def event(self, at: datetime, kind: str, probe_id: str | None = None, detail: str = "") -> None:
        with self.tx():
            self._event(kind, probe_id, detail, iso(at))

    def probes_with_event(self, kind: str) -> set[str]:
        """The probes that have an event of `kind` (e.g. `deleted` by cleanup)."""
        rows = self.con.execute(
            "SELECT probe_id FROM events WHERE kind = ? AND probe_id IS NOT NULL", (kind,)
        )
        return {str(r[0]) for r in rows}
