"""An imported corpus's rows in Parquet files beside the journal, read without Python rows.

A passive corpus (`import-twcs`: millions of probes and replies) is never driven by the
runner, so its `probes` and `replies` need none of SQLite's row-at-a-time writes: they are
kept in `journal/corpus-probes.parquet` and `journal/corpus-replies.parquet`, with the
columns of the journal's tables, and the journal's `corpus` table records each file with its
rows and bytes. The journal's own tables `probes` and `replies` stay empty. Times (`TIMES`)
are stored as UTC timestamps to the millisecond, the journal's precision, not as its ISO
text (the import writes its probes file in about half the CPU time, the analysis reads the
times without parsing them), and every reader but the analysis gets them back as the
journal's text (`read_table`, `load_rows`). A file written
before, with the times as text, reads the same.

Crash safety as for the journal itself: each file is written to a temporary name beside it
and renamed into place before the new journal is (`study.journal.imports.creating`), so a
journal never names a file that was not whole when it was made; a file missing, of another
size or not readable as Parquet since is refused (`corpus_files`).

Readers: `read_table` gives a table's columns as Arrow; `connect_whole` gives every reader
that queries the journal in SQL (`study.journal.tables`, `Journal.read_only`) a connection in
which `probes` and `replies` hold the corpus's rows.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from study.atomic import temporary_beside
from study.journal import errors
from study.journal.file import connect
from study.journal.imports import creating, event, set_meta
from study.journal.schema import create_schema
from study.paths import journal_path

if TYPE_CHECKING:
    import pyarrow as pa

TABLES = ("probes", "replies")
_LOAD_BATCH = 50_000  # rows per executemany when loading into SQLite


@dataclass(frozen=True)
class CorpusFile:
    """One table's Parquet file, as the journal records it."""

    table: str
    path: Path
    rows: int
    bytes: int


def file_path(journal: Path, table: str) -> Path:
    return journal.parent / f"corpus-{table}.parquet"


def schema(table: str) -> pa.Schema:
    """The Arrow schema of a journal table: its columns in order, TEXT as string, INTEGER as
    int64 (what SQLite gives back), so a row reads the same from either."""
    import pyarrow as pa

    kinds = {"TEXT": pa.string(), "INTEGER": pa.int64()}
    return pa.schema([(name, kinds[kind]) for name, kind, _ in _table_info(table)])


def stored_schema(table: str) -> pa.Schema:
    """The schema of a table's corpus file: `schema`, with the times of `TIMES` as UTC
    timestamps to the millisecond."""
    import pyarrow as pa

    plain = schema(table)
    time = pa.timestamp("ms", "UTC")
    return pa.schema([pa.field(f.name, time) if f.name in TIMES[table] else f for f in plain])


@functools.cache
def _table_info(table: str) -> tuple[tuple[str, str, bool], ...]:
    """(name, type, required) of each column of a journal table; required: the key, or NOT
    NULL with no default, which a corpus file must hold."""
    con = sqlite3.connect(":memory:")
    try:
        create_schema(con)
        columns = con.execute(f"PRAGMA table_info({table})").fetchall()
    finally:
        con.close()
    return tuple(
        (str(c[1]), str(c[2]), bool(c[5]) or (bool(c[3]) and c[4] is None)) for c in columns
    )


def _present(file: CorpusFile, columns: list[str]) -> list[str]:
    """Those of `columns` the file holds, read by name: a corpus written by an older (or
    newer) replybench may lack a column added since, which then reads as NULL; StudyError
    naming the file, the column and the fix when it lacks one every row must have."""
    import pyarrow.parquet as pq

    have = set(pq.read_schema(file.path).names)
    required = {name for name, _, needed in _table_info(file.table) if needed}
    for c in columns:
        if c not in have and c in required:
            raise errors.corpus_column_missing(file.path, file.table, c)
    return [c for c in columns if c in have]


def write_table(journal: Path, table: str, batches: pa.RecordBatchReader) -> CorpusFile:
    """Write `table`'s rows (Arrow batches, columns by name; the table's other columns are
    NULL) to its Parquet file beside `journal` (the path the journal will have), whole or
    not at all."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = stored_schema(table)
    final = file_path(journal, table)
    rows = 0
    with temporary_beside(final) as tmp:
        # dictionary pages only for the columns of few values (of every other one, most
        # values are distinct: trying the dictionary costs time and bytes)
        dictionary = [c for c in CATEGORIES[table] if c in target.names]
        with pq.ParquetWriter(
            tmp, target, compression="zstd", compression_level=1, use_dictionary=dictionary
        ) as out:
            for batch in batches:
                n = batch.num_rows
                columns = [
                    _stored(batch.column(f.name), f.type)
                    if f.name in batch.schema.names
                    else pa.nulls(n, f.type)
                    for f in target
                ]
                out.write_batch(pa.record_batch(columns, schema=target))
                rows += n
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
    return CorpusFile(table, final, rows, final.stat().st_size)


def create(
    study_dir: Path,
    tables: dict[str, Callable[[], pa.RecordBatchReader]],
    meta: dict[str, str],
    imported: tuple[str, str],
) -> None:
    """A new journal in `study_dir` holding a corpus: the rows `tables` give (probes,
    replies; each reader made when its file is written) in their Parquet files, `meta`, and
    an `imported` event (at, detail). The files are in place before the journal is; on any
    failure neither is."""
    journal = journal_path(study_dir)
    written: list[CorpusFile] = []
    try:
        with creating(study_dir) as tmp:
            for table, batches in tables.items():
                written.append(write_table(journal, table, batches()))
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                con.execute("BEGIN")
                for key, value in meta.items():
                    set_meta(con, key, value)
                con.executemany(
                    "INSERT INTO corpus (tbl, file, rows, bytes) VALUES (?, ?, ?, ?)",
                    [(f.table, f.path.name, f.rows, f.bytes) for f in written],
                )
                event(con, imported[0], "imported", imported[1])
                con.execute("COMMIT")
            finally:
                con.close()
    except BaseException:
        if not journal.exists():
            for f in written:
                f.path.unlink(missing_ok=True)
        raise


def corpus_files(con: sqlite3.Connection, journal: Path) -> dict[str, CorpusFile] | None:
    """The corpus files the journal on `con` names, each checked whole; None when the journal
    keeps its rows in its own tables. StudyError when a file is missing or not as recorded."""
    has = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'corpus'").fetchone()
    rows = con.execute("SELECT tbl, file, rows, bytes FROM corpus").fetchall() if has else []
    if not rows:
        return None
    out = {}
    for table, name, count, size in rows:
        path = journal.parent / str(name)
        got = path.stat().st_size if path.is_file() else None
        if got != int(size) or _parquet_rows(path) != int(count):
            raise errors.corpus_damaged(path, journal, str(table), int(count), int(size), got)
        out[str(table)] = CorpusFile(str(table), path, int(count), int(size))
    return out


def _parquet_rows(path: Path) -> int | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, pa.ArrowException):
        return None


# Columns of few distinct values: read as Arrow dictionaries, so that decoding them takes no
# more memory than the file (the caller casts them to plain text when it needs to).
_CATEGORIES = ("brand", "country", "channel", "handle", "scope", "script", "slot", "state")
CATEGORIES = {"probes": _CATEGORIES, "replies": ("channel", "author", "author_id", "kind")}


def read_table(file: CorpusFile, columns: list[str], *, times: bool = False) -> pa.Table:
    """`columns` of a corpus table, in the order they were imported (those of
    `CATEGORIES` as dictionaries of text; one the file lacks, if it may, as NULLs); the
    times of `TIMES` as the journal's ISO text, or, with `times`, as naive UTC timestamps
    where the file stores them so (a file of an older replybench holds them as text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    present = _present(file, columns)
    categories = [c for c in present if c in CATEGORIES[file.table]]
    data = pq.read_table(file.path, columns=present, read_dictionary=categories, pre_buffer=False)
    for i, name in enumerate(data.column_names):
        column = data.column(i)
        if pa.types.is_timestamp(column.type):
            data = data.set_column(i, name, _naive(column) if times else _time_text(column))
    if len(present) == len(columns):
        return data
    types = schema(file.table)
    for c in columns:
        if c not in present:
            data = data.append_column(c, pa.nulls(data.num_rows, types.field(c).type))
    return data.select(columns)


# The journal's times (study.timeutil.iso's text) in the corpus files.
TIMES = {
    "probes": (
        "scheduled_at",
        "slot_start_at",
        "slot_end_at",
        "sent_at",
        "closes_at",
        "closed_at",
    ),
    "replies": ("created_at", "seen_at"),
}


def _stored(column: pa.Array, kind: pa.DataType) -> pa.Array:
    """A writer's column as the file stores it: a time given as a timestamp (naive ones are
    UTC) or as the journal's text, cut to the millisecond as study.timeutil.iso cuts it."""
    import pyarrow as pa

    if pa.types.is_timestamp(kind) and pa.types.is_timestamp(column.type):
        return column.cast(pa.timestamp(column.type.unit, "UTC")).cast(kind, safe=False)
    return column.cast(kind)


def _time_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Stored times as the journal's text: 2017-10-31T22:10:47.000Z (study.timeutil.iso;
    Arrow's %S writes a millisecond timestamp's seconds with their three decimals)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ms = column.cast(pa.timestamp("ms", "UTC"))
    return pc.strftime(ms, format="%Y-%m-%dT%H:%M:%SZ")


def _naive(column: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa

    return column.cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us"))


def load_rows(con: sqlite3.Connection, files: dict[str, CorpusFile]) -> None:
    """Copy the corpus's rows into the tables `probes` and `replies` of `con`'s main database
    (which must have them empty), in their order: for the readers that query in SQL."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for table, file in files.items():
        names = _present(file, schema(table).names)
        insert = (
            f"INSERT INTO main.{table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        )
        for batch in pq.ParquetFile(file.path).iter_batches(_LOAD_BATCH, columns=names):
            columns = [
                _time_text(pa.chunked_array([c])) if pa.types.is_timestamp(c.type) else c
                for c in batch.columns
            ]
            con.executemany(insert, zip(*(c.to_pylist() for c in columns), strict=True))


def connect_whole(path: Path) -> sqlite3.Connection:
    """A read-only connection to the whole journal at `path` (safe while `run` writes; rows
    as `sqlite3.Row`). For a journal holding a corpus, an in-memory database holding the
    corpus's probes and replies, with the journal file attached read-only (as `journal`) for
    its other tables: every query reads the same there (this costs a copy of the rows; the
    Arrow reads do not). StudyError when the journal or a corpus file is not whole."""
    con = connect(path, readonly=True)  # refuses a file that is not a whole journal
    try:
        files = corpus_files(con, path)
        definitions = [
            str(r[0])
            for r in con.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", TABLES
            )
        ]
    except BaseException:
        con.close()
        raise
    if files is None:
        return con
    con.close()
    mem = sqlite3.connect("file::memory:", uri=True, timeout=30, isolation_level=None)
    try:
        mem.execute("ATTACH DATABASE ? AS journal", (f"file:{path}?mode=ro",))
        mem.execute("BEGIN")
        for sql in definitions:  # the journal's own (empty) tables' definitions
            mem.execute(sql)
        load_rows(mem, files)
        mem.execute("CREATE INDEX main.replies_probe ON replies(probe_id)")
        mem.execute("COMMIT")
        mem.execute("PRAGMA query_only = ON")  # writes fail, as on the journal file itself
    except BaseException:
        mem.close()
        raise
    mem.row_factory = sqlite3.Row
    return mem
