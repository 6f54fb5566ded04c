"""The journal's tables as pandas DataFrames, with the column contracts of `export`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from study.journal.file import connect
from study.paths import existing_journal

PROBE_COLUMNS = [
    "probe_id",
    "brand",
    "country",
    "channel",
    "handle",
    "scope",
    "script",
    "slot",
    "round",
    "scheduled_at",
    "sent_at",
    "message_id",
    "state",
    "closes_at",
    "closed_at",
    "text",
    "detail",
]
REPLY_COLUMNS = [
    "reply_id",
    "probe_id",
    "channel",
    "author",
    "author_id",
    "created_at",
    "kind",
    "text",
    "in_reply_to",
    "conversation_id",
    "seen_at",
]
TIME_COLUMNS = {"scheduled_at", "sent_at", "closes_at", "closed_at", "created_at", "seen_at"}


def open_journal(study_dir: Path) -> sqlite3.Connection:
    """A read-only connection to a study's journal (safe while `run` writes)."""
    path = existing_journal(study_dir)
    con = connect(path, readonly=True)  # refuses a file that is not a whole journal
    con.row_factory = None
    return con


def read_table(study_dir: Path, table: str) -> pd.DataFrame:
    """`probes` or `replies` from the journal; times stay ISO 8601 UTC text."""
    columns = {"probes": PROBE_COLUMNS, "replies": REPLY_COLUMNS}[table]
    order = "scheduled_at, probe_id" if table == "probes" else "created_at, channel, reply_id"
    con = open_journal(study_dir)
    try:
        cur = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
        rows = [tuple(r) for r in cur.fetchall()]
    finally:
        con.close()
    return pd.DataFrame.from_records(rows, columns=columns)
