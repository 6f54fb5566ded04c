"""Exports of journal tables as CSV, JSON or Parquet, written whole or not at all."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from analysis.import_names import read_names, with_names
from study import csvout
from study.atomic import write_atomic
from study.errors import UsageError
from study.journal.answers import matched_replies
from study.journal.tables import export_rows, open_journal
from study.timeutil import iso

TABLES = ("probes", "replies", "outcomes", "metrics")
FORMATS = ("csv", "json", "parquet")
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


def read_table(study_dir: Path, table: str) -> pd.DataFrame:
    """`probes` or `replies` from the journal; times stay ISO 8601 UTC text."""
    columns = {"probes": PROBE_COLUMNS, "replies": REPLY_COLUMNS}[table]
    return pd.DataFrame.from_records(export_rows(study_dir, table, columns), columns=columns)


def render(df: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "csv":
        return csvout.frame_text(df).encode("utf-8")
    if fmt == "json":
        text = df.to_json(orient="records", force_ascii=False, indent=1)
        return (text or "[]").encode("utf-8") + b"\n"
    typed = df.copy()
    for col in (TIME_COLUMNS | {"first_response_at", "censored_at", "first_answer_at"}) & set(
        typed.columns
    ):
        typed[col] = pd.to_datetime(typed[col], utc=True, format="ISO8601")
    buf = io.BytesIO()
    typed.to_parquet(buf, index=False)
    return buf.getvalue()


def frame(study_dir: Path, table: str) -> pd.DataFrame:
    """A journal table, or the analysis' outcomes (one row per sent probe) or metrics (one
    row per group) at the journal's last observation. Replies carry two more columns:
    `official` (written by an official account of the matched probe's brand; false for a
    stranger and for a reply matched to no probe) and `first_response` (the probe's first
    response, the one the analysis times; study.journal.answers defines both). Probes, outcomes and
    metrics carry brand_name and sector when an import named the brands."""
    names = read_names(study_dir)
    if table == "outcomes":
        from analysis.outcomes import outcomes

        df = outcomes(study_dir)
    elif table == "metrics":
        from analysis.metrics import metrics

        df = metrics(study_dir)
    elif table == "replies":
        return _with_standing(study_dir, read_table(study_dir, table))
    elif table == "probes":
        return with_names(read_table(study_dir, table), names)
    else:
        return read_table(study_dir, table)
    df = with_names(df, names)
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype):
            df[col] = df[col].map(lambda t: None if pd.isna(t) else iso(t.to_pydatetime()))
    return df


def _with_standing(study_dir: Path, replies: pd.DataFrame) -> pd.DataFrame:
    con = open_journal(study_dir)
    try:
        standing = {(m.channel, m.reply_id): m for m in matched_replies(con)}
    finally:
        con.close()
    keys = list(zip(replies["channel"], replies["reply_id"], strict=True))
    replies["official"] = [k in standing and standing[k].official for k in keys]
    replies["first_response"] = [k in standing and standing[k].first_response for k in keys]
    return replies


def export_table(study_dir: Path, table: str, fmt: str, out: Path | None) -> bytes | None:
    """Export `table`; returns the bytes when `out` is None, else writes `out`."""
    if table not in TABLES:
        raise UsageError(f"unknown table {table!r}; choose one of: {', '.join(TABLES)}")
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if fmt == "parquet" and out is None:
        raise UsageError("parquet is binary: give --out FILE.parquet")
    data = render(frame(study_dir, table), fmt)
    if out is None:
        return data
    write_atomic(out, data)
    return None
