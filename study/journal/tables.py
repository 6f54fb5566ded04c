"""The analysis side's reads of the journal: whole tables as Arrow, and a connection for the
readers that query in SQL.

A journal keeps its probes and replies in its own tables, or, for an imported corpus, in
Parquet files beside it (`study.journal.corpus`); the functions here read either the same way.
Arrow tables come from ADBC's SQLite driver or from the Parquet files, without a Python
object per row (a corpus holds millions); `analysis` registers them in DuckDB.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from study.journal import corpus, errors
from study.journal.file import connect
from study.journal.imports import brand_rows, meta, meta_value
from study.journal.schema import AMBIGUOUS_EVENT, has_column, has_table
from study.paths import existing_journal

if TYPE_CHECKING:
    import pyarrow as pa

# Columns added to a journal table since journals were first written, that an older journal
# (opened read-only) or corpus file may lack: they read as NULL.
LATER = frozenset({("probes", "persona"), ("replies", "persona")})
# The order `export` lists a table's rows in.
EXPORT_ORDER = {"probes": "scheduled_at, probe_id", "replies": "created_at, channel, reply_id"}


def open_journal(study_dir: Path) -> sqlite3.Connection:
    """A read-only connection to a study's journal (safe while `run` writes), its rows as
    tuples, an imported corpus's rows in `probes` and `replies` (`corpus.connect_whole`)."""
    con = corpus.connect_whole(existing_journal(study_dir))
    con.row_factory = None
    return con


def read_meta(study_dir: Path) -> dict[str, str]:
    """The journal's meta table."""
    con = _own_tables(study_dir)
    try:
        return meta(con)
    finally:
        con.close()


def read_meta_value(study_dir: Path, key: str) -> str | None:
    con = _own_tables(study_dir)
    try:
        return meta_value(con, key)
    finally:
        con.close()


def read_brands(study_dir: Path) -> list[tuple[str, str, str]]:
    """(brand, name, sector) of every brand the journal names."""
    con = _own_tables(study_dir)
    try:
        return brand_rows(con)
    finally:
        con.close()


def export_rows(study_dir: Path, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    """`columns` of `probes` or `replies`, in the export's order."""
    con = open_journal(study_dir)
    try:
        sql = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {EXPORT_ORDER[table]}"
        return [tuple(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def stored_languages(con: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """(channel, reply_id) -> the language stored with a matched reply (none in a journal
    written before replies had one: opened read-only, it is not migrated)."""
    if not has_column(con, "replies", "language"):
        return {}
    return {
        (str(c), str(i)): str(lang)
        for c, i, lang in con.execute(
            "SELECT channel, reply_id, language FROM replies"
            " WHERE probe_id IS NOT NULL AND language IS NOT NULL"
        )
    }


@dataclass(frozen=True)
class JournalTables:
    """What the analysis reads of a journal: its meta, the named columns of its probes, of
    its matched replies and of its cursors (as text and integers, as stored; an imported
    corpus's times as naive UTC timestamps), and counts of events."""

    meta: dict[str, str]
    probes: pa.Table
    replies: pa.Table  # replies matched to a probe, with a platform time to believe
    cursors: pa.Table
    answers_from: pa.Table | None  # (brand, account); None: a journal from before the table
    caught_up: int  # probes moved by catch-up (`caught_up` events)
    ambiguous: int  # private messages left unmatched because several probes fit


def analysis_tables(
    study_dir: Path, probes: list[str], replies: list[str], cursors: list[str]
) -> JournalTables:
    """The tables `analysis.outcomes` loads into DuckDB. StudyError for a missing or
    unreadable journal."""
    import adbc_driver_manager

    path = existing_journal(study_dir)
    con = _own_tables(study_dir)
    try:
        try:
            files = corpus.corpus_files(con, path)
            values = meta(con)
            caught_up = con.execute(
                "SELECT count(DISTINCT probe_id) FROM events WHERE kind = 'caught_up'"
            ).fetchone()[0]
            ambiguous = con.execute(
                "SELECT count(*) FROM events WHERE kind = ?", (AMBIGUOUS_EVENT,)
            ).fetchone()[0]
            trusted = has_column(con, "replies", "time_suspect")
            return JournalTables(
                meta=values,
                probes=read_arrow(path, files, "probes", probes, times=True),
                replies=read_arrow(
                    path, files, "replies", replies, matched=True, trusted=trusted, times=True
                ),
                cursors=read_arrow(path, None, "cursors", cursors),
                answers_from=read_arrow(path, None, "answers_from", ["brand", "account"])
                if has_table(con, "answers_from")
                else None,
                caught_up=int(caught_up),
                ambiguous=int(ambiguous),
            )
        except (sqlite3.DatabaseError, adbc_driver_manager.Error) as e:
            raise errors.unreadable(path, e) from e
    finally:
        con.close()


def texts(study_dir: Path) -> tuple[pa.Table, pa.Table]:
    """Every probe's (probe_id, text), and every matched reply's (probe_id, reply_id, author,
    kind, created_at, text): the published example exchanges."""
    path = existing_journal(study_dir)
    con = _own_tables(study_dir)
    try:
        files = corpus.corpus_files(con, path)
    finally:
        con.close()
    columns = ["probe_id", "reply_id", "author", "kind", "created_at", "text"]
    return (
        read_arrow(path, files, "probes", ["probe_id", "text"]),
        read_arrow(path, files, "replies", columns, matched=True),
    )


def read_arrow(
    path: Path,
    files: dict[str, corpus.CorpusFile] | None,
    table: str,
    columns: list[str],
    *,
    matched: bool = False,
    trusted: bool = False,
    times: bool = False,
) -> pa.Table:
    """`columns` of a journal table as Arrow, from the corpus file when there is one (its
    columns of few values as dictionaries: `corpus.CATEGORIES`), else by ADBC's SQLite
    driver; `matched`: only rows with a probe_id; `trusted`: only rows without a
    `time_suspect`; `times`: a corpus file's times as naive UTC timestamps rather than the
    journal's text (`corpus.read_table`). A column of `LATER` that a journal or corpus
    written before it lacks reads as NULL (a journal opened read-only is not migrated)."""
    if files is not None and table in files:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        have = set(pq.read_schema(files[table].path).names)
        filters = [c for c, f in (("probe_id", matched), ("time_suspect", trusted)) if f]
        wanted = [c for c in columns if c in have or (table, c) not in LATER]
        wanted += [c for c in filters if c not in wanted]
        data = corpus.read_table(files[table], wanted, times=times)
        keep = pc.is_valid(data["probe_id"]) if matched else None
        if trusted:
            plain = pc.is_null(data["time_suspect"])
            keep = plain if keep is None else pc.and_(keep, plain)
        if keep is not None:
            data = data.filter(keep)
        for c in (c for c in columns if c not in wanted):
            data = data.append_column(c, pa.nulls(data.num_rows, pa.string()))
        return data.select(columns)
    import adbc_driver_sqlite.dbapi as adbc

    where = [
        *(["probe_id IS NOT NULL"] if matched else []),
        *(["time_suspect IS NULL"] if trusted else []),
    ]
    with adbc.connect(f"file:{path}?mode=ro") as src, src.cursor() as cur:
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute(f"PRAGMA table_info({table})")
        have = {str(r[1]) for r in cur.fetchall()}
        said = [c if c in have or (table, c) not in LATER else f"NULL AS {c}" for c in columns]
        sql = f"SELECT {', '.join(said)} FROM {table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        cur.execute(sql)
        result: pa.Table = cur.fetch_arrow_table()
    return result


def _own_tables(study_dir: Path) -> sqlite3.Connection:
    """A read-only connection to the journal file alone (an imported corpus's rows are not
    loaded: for its meta, events, cursors, brands and ratings)."""
    con = connect(existing_journal(study_dir), readonly=True)
    con.row_factory = None
    return con
