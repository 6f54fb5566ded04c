"""The journal's tables: the file format shared by the runner, the importers and the analysis.

`study.journal.campaign` writes it during a campaign; `analysis` imports hand-collected
results and passive corpora into the same tables, and reads them all. Times are ISO 8601 UTC text
(`study.timeutil.iso`), so they sort as text and read as time.

Tables: `probes` (one row per probe: the plan, its state, when it was sent and its platform
id; `caught_up_from`: its planned time when catch-up moved it), `attempts` (every send
attempt and its outcome), `replies` (every inbox item, with the probe it answers when
known, the platform's own timestamp and its kind: public_reply, direct_message, redirect,
auto_ack, other; `time_suspect` holds the platform's own time when it lay far outside the
probe's window, and `created_at` then the time it was seen: the analysis ignores such a
reply's time), `cursors` (inbox positions), `ratings` (quality coding: satisfaction 1 = very
dissatisfied .. 5 = satisfied, answered yes/partly/no), `brands` (names and sectors given
by an import's brand_name and sector columns), `answers_from` (further accounts of a brand
whose replies count as its own: targets.csv's `answers_from`, lower case without '@', set by
each `run`), `events` (an append-only log:
planned, sent, missed, failed, closed, caught_up, and the runner's health: unreachable,
reachable, outage_exit), `meta` (key/value: study_name, window_hours, plan_sha256,
schema_version, last_observation = the end of the last completed inbox read, source =
campaign, import or twcs, progress, health = the runner's view of each channel's
reachability, runner_pid, look_up_own_posts = present until the runner has looked the due
probes up among the probe account's own posts: set in a new journal and in a backup, which
may be behind the platform), `corpus` (an imported corpus's `probes` and `replies` kept in
Parquet files beside the journal instead of its tables: the table, the file's name, its rows
and bytes; see study.journal.corpus).

Personas (study.personas): `probes.persona` and `replies.persona` name the account that sent
the probe and whose inbox saw the reply (a channel's name for its one account in a study
without personas; NULL in a journal made before them or by an import: read it as the
channel), `probes.followers` the account's follower count when the probe went, where the
platform shows it; `cursors.channel` names the inbox, which is the persona's. `personas`
holds each account (its channel and handle) and `persona_attributes` its free attributes
(country, language, gender, name_signal, followers, ...) as text, one row per attribute, for
the analysis to group by.

A journal file exists only complete: it is built in a temporary file and linked into place.
One without its tables is a truncated file or a copy made without its `-wal` file, and is
refused (`check_complete`): taken as new, it would plan the campaign again and post again every
probe whose slot is still open.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from study.journal import errors

SCHEMA_VERSION = "1"

# The event kind of a private message left unmatched because several probes fit it
# (probes.matching): counted by `status` and on the report's method page.
AMBIGUOUS_EVENT = "ambiguous"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS probes (
    probe_id TEXT PRIMARY KEY,
    brand TEXT NOT NULL, country TEXT NOT NULL, channel TEXT NOT NULL,
    handle TEXT NOT NULL, scope TEXT NOT NULL, script TEXT NOT NULL, slot TEXT NOT NULL,
    round INTEGER NOT NULL, text TEXT NOT NULL,
    scheduled_at TEXT NOT NULL, slot_start_at TEXT NOT NULL, slot_end_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'planned',
    sent_at TEXT, message_id TEXT, closes_at TEXT, closed_at TEXT,
    retry_at TEXT, detail TEXT,
    caught_up_from TEXT
);
CREATE INDEX IF NOT EXISTS probes_state ON probes(state, scheduled_at);
CREATE UNIQUE INDEX IF NOT EXISTS probes_message ON probes(channel, message_id)
    WHERE message_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS attempts (
    attempt_id INTEGER PRIMARY KEY AUTOINCREMENT,
    probe_id TEXT NOT NULL REFERENCES probes(probe_id),
    started_at TEXT NOT NULL, finished_at TEXT,
    outcome TEXT NOT NULL DEFAULT 'pending',
    detail TEXT
);
CREATE INDEX IF NOT EXISTS attempts_probe ON attempts(probe_id);
CREATE TABLE IF NOT EXISTS replies (
    channel TEXT NOT NULL, reply_id TEXT NOT NULL, probe_id TEXT,
    author TEXT NOT NULL, author_id TEXT NOT NULL, text TEXT NOT NULL,
    created_at TEXT NOT NULL, kind TEXT NOT NULL,
    in_reply_to TEXT, conversation_id TEXT, seen_at TEXT NOT NULL, time_suspect TEXT,
    PRIMARY KEY (channel, reply_id)
);
CREATE INDEX IF NOT EXISTS replies_probe ON replies(probe_id);
CREATE TABLE IF NOT EXISTS cursors (
    channel TEXT PRIMARY KEY, cursor TEXT NOT NULL, polled_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ratings (
    probe_id TEXT NOT NULL, rater TEXT NOT NULL,
    satisfaction INTEGER NOT NULL CHECK (satisfaction BETWEEN 1 AND 5),
    answered TEXT NOT NULL CHECK (answered IN ('yes', 'partly', 'no')),
    note TEXT NOT NULL DEFAULT '', imported_at TEXT NOT NULL,
    PRIMARY KEY (probe_id, rater)
);
CREATE TABLE IF NOT EXISTS brands (
    brand TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', sector TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS personas (
    persona TEXT PRIMARY KEY, channel TEXT NOT NULL, account TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS persona_attributes (
    persona TEXT NOT NULL, attribute TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (persona, attribute)
);
CREATE TABLE IF NOT EXISTS answers_from (
    brand TEXT NOT NULL, account TEXT NOT NULL, PRIMARY KEY (brand, account)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL,
    probe_id TEXT, detail TEXT
);
CREATE TABLE IF NOT EXISTS corpus (
    tbl TEXT PRIMARY KEY, file TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL
);
"""


# Columns added after a table first shipped: (table, column, declaration). A journal made
# before gets them, empty, the next time it is opened for writing.
ADDED_COLUMNS = (
    # The scheduled_at the plan gave a probe that catch-up moved to a later occurrence of
    # its slot (study.catch_up); NULL for a probe sent as planned.
    ("probes", "caught_up_from", "TEXT"),
    # The platform's own time of a reply when it was not to be believed (study.journal.inbox).
    ("replies", "time_suspect", "TEXT"),
    # The reply's language (ISO 639-1, or 'und' when it could not be told), written by
    # `import` (analysis.language); NULL where it was not stored: the analysis detects it.
    ("replies", "language", "TEXT"),
    # The persona that sent the probe and whose inbox saw the reply (see the docstring);
    # filled in from the channel when an older journal gains the column.
    ("probes", "persona", "TEXT"),
    ("replies", "persona", "TEXT"),
    # The sending account's follower count at the send, where the platform shows it.
    ("probes", "followers", "INTEGER"),
)
# A column added with a value for the rows already there: (table, column, expression).
_FILLED = {("probes", "persona"): "channel", ("replies", "persona"): "channel"}


def create_schema(con: sqlite3.Connection) -> None:
    """Create the tables when missing and add the columns an older journal lacks
    (idempotent)."""
    for stmt in SCHEMA.split(";"):
        if stmt.strip():
            con.execute(stmt)
    for table, column, declaration in ADDED_COLUMNS:
        if not has_column(con, table, column):
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            if (table, column) in _FILLED:
                con.execute(f"UPDATE {table} SET {column} = {_FILLED[table, column]}")


# Every journal has these (the others are added by create_schema on the next write).
TABLES = ("meta", "probes", "replies", "cursors")
LOOK_UP_OWN_POSTS = "look_up_own_posts"  # the meta key: see the module docstring


def has_column(con: sqlite3.Connection, table: str, column: str) -> bool:
    return any(r[1] == column for r in con.execute(f"PRAGMA table_info({table})"))


def has_table(con: sqlite3.Connection, table: str) -> bool:
    row = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    return row.fetchone() is not None


def incomplete(con: sqlite3.Connection) -> str | None:
    """Why the database is not a whole journal (missing tables or schema_version), or None."""
    names = {str(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [t for t in TABLES if t not in names]
    if len(missing) == len(TABLES):
        return "it holds no tables"
    if missing:
        return f"it has no {', '.join(missing)} table{'s' if len(missing) > 1 else ''}"
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return "its meta table has no schema_version" if row is None else None


def check_complete(con: sqlite3.Connection, path: Path) -> None:
    """Refuse a journal file that is not whole, before anything reads or writes it."""
    why = incomplete(con)
    if why is not None:
        raise errors.incomplete(path, why)
