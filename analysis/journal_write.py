"""The shared parts of importing into a journal: CSV rows with their line numbers, and
writing all or nothing.

Importers check every row first and write only when all are good. A new journal is built in a
temporary file next to `journal.sqlite` and renamed into place; an existing one is changed in
one `BEGIN IMMEDIATE` transaction. Either way a failure leaves the journal as it was.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from study.atomic import remove_stale_temporaries, temporary_beside
from study.csvrows import Rows, check_header, read_sheet
from study.errors import Problem
from study.journal.file import connect
from study.journal.schema import SCHEMA_VERSION, create_schema
from study.paths import journal_path

if TYPE_CHECKING:
    import pyarrow as pa


def read_rows(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...], out: list[Problem]
) -> Rows | None:
    """The non-blank rows of a CSV file with the physical line each starts on (the header is
    line 1), values stripped and absent optional columns as ''; None when no row can be read
    (the problems are added to `out`)."""
    name = str(path)
    shape = f"required: {', '.join(required)}; optional: {', '.join(optional)}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        out.append(Problem(name, None, "does not exist; check the path"))
        return None
    except UnicodeDecodeError:
        out.append(Problem(name, 1, 'is not UTF-8 text; save it as UTF-8 ("CSV UTF-8")'))
        return None

    def header_ok(line: int, header: list[str]) -> bool:
        return check_header(name, line, header, required, optional, shape, out)

    sheet = read_sheet(text, name, optional, header_ok, out)
    if sheet is None:
        return None
    if sheet.header is None:
        out.append(Problem(name, 1, f"is empty; start it with the header row ({shape})"))
        return None
    if not sheet.rows and not out:
        out.append(Problem(name, 1, "has no rows under the header; add one row per record"))
    return sheet.rows


def read_journal(study_dir: Path) -> sqlite3.Connection | None:
    """A read-only connection to the study's journal, or None when there is none yet.

    Opening read-only leaves the file's bytes alone, so a rejected import changes nothing."""
    path = journal_path(study_dir)
    if not path.exists():
        return None
    from analysis.journal_tables import open_journal

    return open_journal(study_dir)


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
    `journal.sqlite`, which the block fills (with `writing`'s connection, or `bulk_insert`)
    and which is put in place, in WAL mode, only when the block ends without error."""
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


def bulk_insert(database: Path, table: str, rows: pa.RecordBatchReader) -> None:
    """Append Arrow batches to a table (columns by name) of a journal that `creating` is
    building, without a Python object per row (ADBC's SQLite driver). The table's own indexes
    are built again after the load (sorting once is cheaper than a B-tree insert per row);
    a UNIQUE one still refuses duplicates then."""
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(str(database), autocommit=True) as con, con.cursor() as cur:
        cur.execute("PRAGMA journal_mode=OFF")
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: rows are appended, indexes sorted
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
            " AND sql IS NOT NULL",
            (table,),
        )
        indexes = cur.fetchall()
        cur.execute("BEGIN")
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.adbc_ingest(table, rows, mode="append")
        for _, sql in indexes:
            cur.execute(sql)
        cur.execute("COMMIT")


def _bulk_pragmas(con: sqlite3.Connection) -> None:
    # A temporary file that is thrown away on any failure needs no rollback journal.
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")  # 256 MiB: bulk loads of a corpus


def meta(con: sqlite3.Connection) -> dict[str, str]:
    return {str(k): str(v) for k, v in con.execute("SELECT key, value FROM meta")}


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def event(con: sqlite3.Connection, at: str, kind: str, detail: str) -> None:
    con.execute("INSERT INTO events(at, kind, detail) VALUES (?, ?, ?)", (at, kind, detail))
