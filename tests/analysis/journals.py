"""Journals for the analysis tests, written straight into SQLite with the real schema."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from analysis.outcomes import PROBE_COLUMNS, REPLY_COLUMNS
from study.journal.schema import SCHEMA_VERSION, create_schema
from study.paths import journal_path
from study.timeutil import iso

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def hours(h: float) -> timedelta:
    return timedelta(hours=h)


@dataclass(frozen=True)
class P:
    """A probe row: sent at `sent_at` (None: not sent) in `state`."""

    probe_id: str
    brand: str = "kaito"
    country: str = "DE"
    channel: str = "x"
    handle: str = "kaito_de"
    scope: str = "local"
    script: str = "delivery"
    slot: str = "business"
    round: int = 1
    sent_at: datetime | None = T0
    state: str = "sent"
    persona: str | None = None  # the sending account (None: the channel's one account)


@dataclass(frozen=True)
class R:
    """A reply row, matched to `probe_id` (None: matched to no probe)."""

    probe_id: str | None
    author: str
    created_at: datetime
    kind: str = "public_reply"
    persona: str | None = None  # whose inbox read it (None: the channel's one account)


def write_journal(
    study_dir: Path,
    probes: list[P],
    replies: list[R] = (),  # type: ignore[assignment]
    *,
    window_hours: float = 72.0,
    last_observation: datetime | None = None,
    name: str = "test-study",
    answers_from: tuple[tuple[str, str], ...] = (),
) -> Path:
    """Write `study_dir/journal/journal.sqlite` holding exactly these rows (`answers_from`:
    (brand, account) rows of its table, as `run` writes targets.csv's column)."""
    path = journal_path(study_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        create_schema(con)
        meta = {
            "schema_version": SCHEMA_VERSION,
            "study_name": name,
            "window_hours": repr(float(window_hours)),
            "source": "campaign",
        }
        if last_observation is not None:
            meta["last_observation"] = iso(last_observation)
        con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
        con.executemany(
            "INSERT INTO probes (probe_id, brand, country, channel, handle, scope, script, slot,"
            " round, text, scheduled_at, slot_start_at, slot_end_at, state, sent_at, message_id,"
            " closes_at, persona) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    p.probe_id,
                    p.brand,
                    p.country,
                    p.channel,
                    p.handle,
                    p.scope,
                    p.script,
                    p.slot,
                    p.round,
                    f"@{p.handle} hello",
                    iso(p.sent_at or T0),
                    iso(p.sent_at or T0),
                    iso((p.sent_at or T0) + hours(1)),
                    p.state,
                    None if p.sent_at is None else iso(p.sent_at),
                    None if p.sent_at is None else f"m-{p.probe_id}",
                    None if p.sent_at is None else iso(p.sent_at + hours(window_hours)),
                    p.persona,
                )
                for p in probes
            ],
        )
        con.executemany(
            "INSERT INTO replies (channel, reply_id, probe_id, author, author_id, text,"
            " created_at, kind, seen_at, persona) VALUES ('x', ?, ?, ?, ?, 'Hi!', ?, ?, ?, ?)",
            [
                (
                    f"r{i}",
                    r.probe_id,
                    r.author,
                    f"id-{r.author}",
                    iso(r.created_at),
                    r.kind,
                    iso(r.created_at),
                    r.persona,
                )
                for i, r in enumerate(replies)
            ],
        )
        con.executemany("INSERT INTO answers_from (brand, account) VALUES (?, ?)", answers_from)
        con.commit()
    finally:
        con.close()
    return path


def duck(probes: list[P], replies: list[R] = ()) -> duckdb.DuckDBPyConnection:  # type: ignore[assignment]
    """An in-memory DuckDB holding tables probes and replies as `load_journal` makes them."""
    con = duckdb.connect()

    def naive(t: datetime | None) -> datetime | None:
        return None if t is None else t.astimezone(UTC).replace(tzinfo=None)

    probe_rows = {
        "probe_id": [p.probe_id for p in probes],
        "brand": [p.brand for p in probes],
        "country": [p.country for p in probes],
        "channel": [p.channel for p in probes],
        "handle": [p.handle for p in probes],
        "scope": [p.scope for p in probes],
        "script": [p.script for p in probes],
        "slot": [p.slot for p in probes],
        "round": [p.round for p in probes],
        "state": [p.state for p in probes],
        "sent_at": [naive(p.sent_at) for p in probes],
        "persona": [p.persona for p in probes],
    }
    reply_rows = {
        "probe_id": [r.probe_id for r in replies],
        "author": [r.author for r in replies],
        "kind": [r.kind for r in replies],
        "created_at": [naive(r.created_at) for r in replies],
    }
    con.register("probes", pa.table(probe_rows, schema=pa.schema(PROBE_COLUMNS)))
    con.register("replies", pa.table(reply_rows, schema=pa.schema(REPLY_COLUMNS)))
    return con


def outcomes_db(rows: list[dict[str, object]]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose `outcomes` table holds `rows` (brand, duration_hours,
    observed and optionally country, channel, slot, scope, auto_ack, still_open (default:
    unanswered before 72 hours), answer_hours and answer_observed (default: those of the
    response))."""
    con = duckdb.connect()
    table = pa.table(
        {
            "probe_id": [f"p{i}" for i in range(len(rows))],
            "brand": [str(r.get("brand", "kaito")) for r in rows],
            "country": [str(r.get("country", "DE")) for r in rows],
            "channel": [str(r.get("channel", "x")) for r in rows],
            "slot": [str(r.get("slot", "business")) for r in rows],
            "scope": [str(r.get("scope", "local")) for r in rows],
            "duration_hours": pa.array([r["duration_hours"] for r in rows], pa.float64()),
            "observed": pa.array([r["observed"] for r in rows], pa.bool_()),
            "auto_ack_at": pa.array(
                [T0.replace(tzinfo=None) if r.get("auto_ack") else None for r in rows],
                pa.timestamp("us"),
            ),
            "still_open": pa.array(
                [
                    r.get("still_open", not r["observed"] and float(r["duration_hours"]) < 72)  # type: ignore[arg-type]
                    for r in rows
                ],
                pa.bool_(),
            ),
            "answer_hours": pa.array(
                [r.get("answer_hours", r["duration_hours"]) for r in rows], pa.float64()
            ),
            "answer_observed": pa.array(
                [r.get("answer_observed", r["observed"]) for r in rows], pa.bool_()
            ),
        }
    )
    con.register("outcomes_rows", table)
    con.execute("CREATE TEMP TABLE outcomes AS SELECT * FROM outcomes_rows")
    return con
