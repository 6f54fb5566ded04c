"""A study's outcomes in DuckDB: one row per sent probe, with its first response or censoring.

The journal (SQLite, written by the runner or the importers) is read once into an in-memory
DuckDB database as tables `probes`, `replies` and `observations` (each channel's last
completed inbox read) with UTC TIMESTAMP columns; the queries in `analysis/sql/` do the rest.
`outcomes.sql` says what counts as a response and how a probe is censored; the as-of time
(the moment of analysis) defaults to the journal's `last_observation`, the end of the last
completed inbox read of any channel.
"""

from __future__ import annotations

import math
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from study.errors import StudyError, UsageError
from study.journal.queries import expand
from study.journal.tables import analysis_tables
from study.paths import journal_path
from study.timeutil import in_range, iso, parse_iso, range_text, utc

PROBE_COLUMNS: dict[str, Any] = {
    "probe_id": pa.string(),
    "brand": pa.string(),
    "country": pa.string(),
    "channel": pa.string(),
    "handle": pa.string(),
    "scope": pa.string(),
    "script": pa.string(),
    "slot": pa.string(),
    "round": pa.int64(),
    "state": pa.string(),
    "sent_at": pa.timestamp("us"),
    # The sending account, whose inbox read (cursors) observes the probe; NULL: the
    # channel's one account (a study without personas, an older journal, an import).
    "persona": pa.string(),
}
REPLY_COLUMNS: dict[str, Any] = {
    "probe_id": pa.string(),
    "author": pa.string(),
    "kind": pa.string(),
    "created_at": pa.timestamp("us"),
}
# The journal's `cursors`: the runner's inbox reads, one row per inbox (a persona's, or a
# channel's for its one account), and the last worksheet import for the manual channel.
OBSERVATION_COLUMNS: dict[str, Any] = {"channel": pa.string(), "polled_at": pa.timestamp("us")}
# Further accounts of a brand whose replies count as its own (targets.csv's answers_from).
ANSWERS_FROM_COLUMNS: dict[str, Any] = {"brand": pa.string(), "account": pa.string()}
MEMORY_LIMIT = "500MB"  # DuckDB's share of an analysis: a 1 GB machine analyses a TWCS corpus
OUTCOME_TIMES = ("sent_at", "first_response_at", "auto_ack_at", "censored_at", "first_answer_at")


def sql_text(name: str) -> str:
    """The text of `analysis/sql/{name}.sql`, its `-- include: NAME` lines replaced by
    `study/journal/sql/NAME.sql` (the definition of a response is the journal's)."""
    return expand(files("analysis").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class JournalInfo:
    """What the journal's meta table says about the study."""

    path: Path
    name: str
    window_hours: float
    last_observation: datetime | None  # end of the last completed inbox read, if any
    # Probes the runner moved to a later occurrence of their slot, having been down in the
    # planned one (study.catch_up; `caught_up` events).
    caught_up: int = 0
    ambiguous_dms: int = 0  # private messages left unmatched because several probes fit


@dataclass(frozen=True)
class StudyCounts:
    """What became of the planned probes by the as-of time (see study_counts.sql)."""

    probes: int
    planned: int
    sent: int
    missed: int
    failed: int
    first_sent_at: datetime | None
    last_sent_at: datetime | None


@dataclass(frozen=True)
class Prepared:
    """A DuckDB connection holding a journal and its `outcomes` table at one as-of time."""

    con: duckdb.DuckDBPyConnection
    info: JournalInfo
    as_of: datetime


def parse_as_of(text: str) -> datetime:
    """An as-of time given as text (e.g. on the command line), as a UTC datetime."""
    try:
        when = parse_iso(text)
    except ValueError:
        raise UsageError(
            f"as-of time {text!r} is not an ISO 8601 time with a UTC offset; "
            "write it like 2026-03-20T12:00:00Z"
        ) from None
    if not in_range(when):
        raise UsageError(f"as-of time {text!r} is out of range: {range_text()}; check the year")
    return when


def resolve_as_of(info: JournalInfo, as_of: datetime | None) -> datetime:
    """The moment of analysis: `as_of` if given, else the journal's last observation.

    A time after the last observation is refused: replies after it have not been read, so
    probes would look unanswered that may well have been answered.
    """
    last = info.last_observation
    if as_of is None:
        if last is None:
            raise StudyError(
                f"{info.path}: the journal records no completed inbox read (no "
                "last_observation); give the moment of analysis with --as-of"
            )
        return last
    if as_of.tzinfo is None:
        raise StudyError(f"as-of time {as_of.isoformat()} has no UTC offset; add one, e.g. 'Z'")
    as_of = utc(as_of)
    if last is not None and as_of > last:
        raise StudyError(
            f"as-of time {iso(as_of)} is after the journal's last observation {iso(last)}: "
            "replies after it have not been read; give an earlier time or leave it out"
        )
    return as_of


def load_journal(study_dir: Path) -> tuple[duckdb.DuckDBPyConnection, JournalInfo]:
    """Read the journal into a new in-memory DuckDB database: tables probes, replies,
    observations (channel, observed_until: when the channel's inbox was last read) and
    answers_from (brand, account: further accounts whose replies count as the brand's)."""
    path = journal_path(study_dir)
    read = analysis_tables(
        study_dir, list(PROBE_COLUMNS), list(REPLY_COLUMNS), list(OBSERVATION_COLUMNS)
    )
    meta = read.meta
    info = JournalInfo(
        path=path,
        name=meta.get("study_name", study_dir.resolve().name),
        window_hours=_window_hours(path, meta.get("window_hours")),
        last_observation=_meta_time(path, meta.get("last_observation")),
        caught_up=read.caught_up,
        ambiguous_dms=read.ambiguous,
    )
    probes = _typed(path, "probes", read.probes, PROBE_COLUMNS)
    replies = _typed(path, "replies", read.replies, REPLY_COLUMNS)
    observations = _typed(path, "cursors", read.cursors, OBSERVATION_COLUMNS)
    answers_from = (
        pa.table({k: pa.array([], v) for k, v in ANSWERS_FROM_COLUMNS.items()})
        if read.answers_from is None
        else _typed(path, "answers_from", read.answers_from, ANSWERS_FROM_COLUMNS)
    )
    del read
    # Give the memory Parquet decoding and time parsing left free back to the system before
    # DuckDB takes its share (Arrow's allocator keeps it otherwise).
    pa.default_memory_pool().release_unused()
    con = duckdb.connect(config=duckdb_config())
    con.register("probes", probes)
    con.register("replies", replies)
    con.register("observations", observations.rename_columns(["channel", "observed_until"]))
    con.register("answers_from", answers_from)
    return con, info


def duckdb_config() -> dict[str, str | bool | int | float | list[str]]:
    """An analysis connection's settings: DuckDB's memory bounded (its default is most of
    the machine's), with what does not fit spilled to a folder of its own in the system's
    temporary directory, which DuckDB makes and removes (not `.tmp` in the working folder)."""
    folder = Path(tempfile.gettempdir()) / f"replybench-duckdb-{secrets.token_hex(6)}"
    return {"memory_limit": MEMORY_LIMIT, "temp_directory": str(folder)}


def create_outcomes(
    con: duckdb.DuckDBPyConnection, *, as_of: datetime, window_hours: float
) -> None:
    """Make the temporary table `outcomes` from `probes`, `replies` and `observations`
    (outcomes.sql; an empty `observations` is made when there is none: every channel is
    then observed until `as_of`; and an empty `answers_from`: only probed handles answer)."""
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS observations (channel VARCHAR, observed_until TIMESTAMP)"
    )
    con.execute("CREATE TEMP TABLE IF NOT EXISTS answers_from (brand VARCHAR, account VARCHAR)")
    con.execute(
        sql_text("outcomes"),
        {"as_of": _naive_utc(as_of), "window_us": round(window_hours * 3_600_000_000)},
    )


def study_counts(con: duckdb.DuckDBPyConnection, *, as_of: datetime) -> StudyCounts:
    """Planned, sent, missed and failed probes at `as_of` (study_counts.sql)."""
    row = con.execute(sql_text("study_counts"), {"as_of": _naive_utc(as_of)}).fetchone()
    assert row is not None
    return StudyCounts(
        probes=int(row[0]),
        planned=int(row[1]),
        sent=int(row[2]),
        missed=int(row[3]),
        failed=int(row[4]),
        first_sent_at=_aware(row[5]),
        last_sent_at=_aware(row[6]),
    )


def prepare(study_dir: Path, as_of: datetime | None = None) -> Prepared:
    """Load the journal, fix the as-of time and build the outcomes table."""
    con, info = load_journal(study_dir)
    try:
        at = resolve_as_of(info, as_of)
        create_outcomes(con, as_of=at, window_hours=info.window_hours)
    except BaseException:
        con.close()
        raise
    return Prepared(con=con, info=info, as_of=at)


def outcomes_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The `outcomes` table in sending order, with times as UTC-aware timestamps."""
    df: pd.DataFrame = con.execute(sql_text("outcomes_frame")).df()
    for col in OUTCOME_TIMES:
        df[col] = pd.to_datetime(df[col]).dt.tz_localize("UTC")
    return df


def outcomes(study_dir: Path, as_of: datetime | None = None) -> pd.DataFrame:
    """One row per probe sent by `as_of` (default: the journal's last observation).

    Columns: probe_id, brand, country, channel, handle, scope, script, slot, round, sent_at,
    first_response_at, first_response_kind, auto_ack_at, duration_hours, observed,
    censored_at, first_answer_at, answer_hours, answer_observed. `duration_hours` runs from
    sending to the first response (observed) or to censored_at = min(sent_at + window,
    as_of, the last read of the probe's channel's inbox); answer_hours and answer_observed
    time the first substantive answer (a public reply or DM) the same way. See
    analysis/sql/outcomes.sql for the rules.
    """
    prepared = prepare(study_dir, as_of)
    try:
        return outcomes_frame(prepared.con)
    finally:
        prepared.con.close()


def _typed(path: Path, name: str, table: pa.Table, columns: dict[str, Any]) -> pa.Table:
    """A journal table's columns with times parsed as UTC and every column of `columns`'
    type."""
    arrays = []
    for col, kind in columns.items():
        raw = table[col]
        if kind == pa.timestamp("us"):
            arrays.append(_arrow_times(path, f"{name}.{col}", raw))
        else:
            arrays.append(raw.cast(kind))
    return pa.Table.from_arrays(arrays, names=list(columns))


# The times pandas can hold, to the microsecond (casting its nanosecond bounds would wrap).
_PANDAS_MIN = np.datetime64(pd.Timestamp.min.ceil("us").value // 1000, "us")
_PANDAS_MAX = np.datetime64(pd.Timestamp.max.floor("us").value // 1000, "us")


def _arrow_times(path: Path, column: str, raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO 8601 text as naive UTC timestamps: Arrow's parser for the journal's own form
    (with Z or an offset), pandas' for anything else, and for times pandas cannot hold (before
    1677 or after 2262), which it refuses as damage with the message. Times already
    timestamps (an imported corpus's, naive UTC) are only checked against those bounds."""
    stamped = pa.types.is_timestamp(raw.type)
    try:
        if stamped:
            parsed = raw.cast(pa.timestamp("us"))
        else:
            parsed = raw.cast(pa.string()).cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us"))
        values = parsed.to_numpy()
        if not ((values < _PANDAS_MIN) | (values > _PANDAS_MAX)).any():
            return parsed
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = raw.cast(pa.string()) if stamped else raw
    return pa.chunked_array([pa.array(_times(path, column, text.to_pylist()))])


def _times(path: Path, column: str, raw: list[str | None]) -> pd.Series:
    text = pd.Series(raw, dtype="object")
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    bad = text[parsed.isna() & text.notna()]
    if len(bad):
        raise StudyError(
            f"{path}: {column} holds {bad.iloc[0]!r}, which is not an ISO 8601 time; "
            "the journal is damaged: restore it from a backup"
        )
    return parsed.dt.tz_localize(None).astype("datetime64[us]")


def _window_hours(path: Path, value: str | None) -> float:
    try:
        hours = float(value) if value is not None else math.nan
    except ValueError:
        hours = math.nan
    if not (math.isfinite(hours) and hours > 0):
        raise StudyError(
            f"{path}: the journal's meta has no valid window_hours ({value!r}); "
            "it was not written by replybench run or import, restore it from a backup"
        )
    return hours


def _meta_time(path: Path, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise StudyError(
            f"{path}: the journal's last_observation {value!r} is not an ISO 8601 time; "
            "restore the journal from a backup"
        ) from None


def _naive_utc(dt: datetime) -> datetime:
    return utc(dt).replace(tzinfo=None)


def _aware(value: object) -> datetime | None:
    if value is None:
        return None
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC)
