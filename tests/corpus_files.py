"""Rewriting an imported corpus's Parquet file as another version of replybench might have
written it, for the tests of how every reader takes such a file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from study.journal import corpus
from study.paths import journal_path


def rewrite_corpus_file(study: Path, table: str, change: Callable[[pa.Table], pa.Table]) -> Path:
    """Replace `table`'s corpus file in `study` by `change` of its rows, and record the new
    file's size in the journal as the import did (so it is not refused as damaged)."""
    path = corpus.file_path(journal_path(study), table)
    pq.write_table(change(pq.read_table(path)), path)
    con = sqlite3.connect(journal_path(study))
    try:
        con.execute("UPDATE corpus SET bytes = ? WHERE tbl = ?", (path.stat().st_size, table))
        con.commit()
    finally:
        con.close()
    return path
