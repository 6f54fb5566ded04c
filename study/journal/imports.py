"""The importers' writes: a journal built whole or changed in one transaction, and the rows of
hand-collected results, brand names and ratings.

Importers check every row first and write only when all are good. A new journal is built in a
temporary file next to `journal.sqlite` and renamed into place; an existing one is changed in
one `BEGIN IMMEDIATE` transaction. Either way a failure leaves the journal as it was.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from study.atomic import remove_stale_temporaries, temporary_beside
from study.journal.file import connect
from study.journal.schema import SCHEMA_VERSION, create_schema
from study.journal.store import add_event, put_meta
from study.paths import journal_path

Key = tuple[str, str, str, str]  # brand, country, channel, sent_at as stored (iso)


def read_journal(study_dir: Path) -> sqlite3.Connection | None:
    """A read-only connection to the study's journal (its own tables: an imported corpus's
    rows are not loaded), or None when there is none yet.

    Opening read-only leaves the file's bytes alone, so a rejected import changes nothing."""
    path = journal_path(study_dir)
    if not path.exists():
        return None
    con = connect(path, readonly=True)  # refuses a file that is not a whole journal
    con.row_factory = None
    return con


@contextlib.contextmanager
def writing(study_dir: Path) -> Iterator[sqlite3.Connection]:
    """A connection inside one transaction that commits when the block ends without error.

    A missing journal is built in a temporary file (schema and `schema_version` included) and
    renamed into place only on success, so no half-built journal is ever seen."""
    path = journal_path(study_dir)
    if path.exists():
        remove_stale_temporaries(path)  # left by an import that was killed creating it
        con = connect(path)  # refuses a file that is not a whole journal, or read-only
        con.row_factory = None
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                create_schema(con)
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()
        return
    with creating(study_dir) as tmp:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            _bulk_pragmas(con)
            con.execute("BEGIN")
            yield con
            con.execute("COMMIT")
        finally:
            con.close()


@contextlib.contextmanager
def creating(study_dir: Path) -> Iterator[Path]:
    """A new journal (schema and `schema_version` included) in a temporary file beside
    `journal.sqlite`, which the block fills (with `writing`'s connection, or
    `study.journal.corpus`) and which is put in place, in WAL mode, only when the block ends
    without error."""
    path = journal_path(study_dir)
    with temporary_beside(path) as tmp:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            _bulk_pragmas(con)
            con.execute("BEGIN")
            create_schema(con)
            set_meta(con, "schema_version", SCHEMA_VERSION)
            con.execute("COMMIT")
        finally:
            con.close()
        yield tmp
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")  # what the runner and readers expect
        finally:
            con.close()
        os.replace(tmp, path)


def _bulk_pragmas(con: sqlite3.Connection) -> None:
    # A temporary file that is thrown away on any failure needs no rollback journal.
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")  # 256 MiB: bulk loads


def meta(con: sqlite3.Connection) -> dict[str, str]:
    return {str(k): str(v) for k, v in con.execute("SELECT key, value FROM meta")}


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    put_meta(con, key, value)


def meta_value(con: sqlite3.Connection, key: str) -> str | None:
    """One meta value of the journal on `con`; None when unset or the journal is damaged."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    return None if row is None else str(row[0])


def add_meta(con: sqlite3.Connection, key: str, value: str) -> str:
    """Set `key` unless it is set already; the value it has then."""
    con.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))
    return meta_value(con, key) or value


def event(con: sqlite3.Connection, at: str, kind: str, detail: str) -> None:
    add_event(con, at, kind, None, detail)


def imported_keys(con: sqlite3.Connection) -> dict[Key, str]:
    """Each probe's key (brand, country, channel, sent_at) and id: an import recognises the
    rows imported before by key, as journals imported before ids were whole keys hold
    hashed ids."""
    return {
        (str(b), str(c), str(ch), str(at)): str(pid)
        for pid, b, c, ch, at in con.execute(
            "SELECT probe_id, brand, country, channel, sent_at FROM probes"
        )
    }


# The probes of a hand-collected import: (probe_id, brand, country, channel, handle, scope,
# script, slot, text, sent_at, closes_at), sent_at standing for the slot occurrence too.
ImportedProbe = tuple[str, str, str, str, str, str, str, str, str, str, str]
# Their replies: (channel, reply_id, probe_id, author, text, created_at, kind, language).
ImportedReply = tuple[str, str, str, str, str, str, str, str | None]


def insert_imported(
    con: sqlite3.Connection, probes: Iterable[ImportedProbe], replies: Iterable[ImportedReply]
) -> None:
    """Add hand-collected probes (state sent) and their replies, then renumber every target's
    `round` in sending order over the whole journal, so the result does not depend on the
    order in which files were imported."""
    con.executemany(
        "INSERT INTO probes (probe_id, brand, country, channel, handle, scope, script, slot,"
        " round, text, scheduled_at, slot_start_at, slot_end_at, state, sent_at, closes_at)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,1,?9,?10,?10,?10,'sent',?10,?11)",
        probes,
    )
    con.executemany(
        "INSERT INTO replies (channel, reply_id, probe_id, author, author_id, text, created_at,"
        " kind, seen_at, language) VALUES (?1,?2,?3,?4,?4,?5,?6,?7,?6,?8)",
        replies,
    )
    con.execute(
        "UPDATE probes SET round = o.k FROM (SELECT probe_id, row_number() OVER (PARTITION BY"
        " brand, country, channel ORDER BY sent_at, probe_id) AS k FROM probes) AS o"
        " WHERE o.probe_id = probes.probe_id"
    )


def close_windows(con: sqlite3.Connection, as_of: str) -> set[str]:
    """Close every probe whose window ended by `as_of`; the ids closed now."""
    closed = {
        str(r[0])
        for r in con.execute(
            "SELECT probe_id FROM probes WHERE state = 'sent' AND closes_at <= ?", (as_of,)
        )
    }
    con.execute(
        "UPDATE probes SET state = 'closed', closed_at = closes_at "
        "WHERE state = 'sent' AND closes_at <= ?",
        (as_of,),
    )
    return closed


def brand_rows(con: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(brand, name, sector) of every brand the journal names (none in a journal made before
    it had a `brands` table)."""
    try:
        rows = con.execute("SELECT brand, name, sector FROM brands").fetchall()
    except sqlite3.OperationalError:  # no brands table yet
        return []
    return [(str(b), str(n), str(s)) for b, n, s in rows]


def store_brands(con: sqlite3.Connection, rows: Iterable[tuple[str, str, str]]) -> None:
    """Record (brand, name, sector); a value already there is kept where none is given."""
    con.executemany(
        "INSERT INTO brands (brand, name, sector) VALUES (?, ?, ?) ON CONFLICT (brand) DO UPDATE"
        " SET name = coalesce(nullif(excluded.name, ''), name),"
        " sector = coalesce(nullif(excluded.sector, ''), sector)",
        rows,
    )
