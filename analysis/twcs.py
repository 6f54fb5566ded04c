"""A passive corpus: the "Customer Support on Twitter" data set (TWCS) as a journal.

TWCS (Thought Vector, on Kaggle) holds customers' tweets to brands and the brands' replies:
`tweet_id, author_id, inbound, created_at, text, response_tweet_id, in_response_to_tweet_id`,
with `created_at` like `Tue Oct 31 22:10:47 +0000 2017`. Copies re-saved by pandas add a
leading unnamed index column and write `in_response_to_tweet_id` as floats (`3.0`); both are
read. Nobody sent these inquiries on a schedule, so the study design is inferred:

- a brand is an author of non-inbound tweets; `brand` is its author_id in lower case and
  `handle` the author_id as written (names cut to 64 and 254 characters, with direction
  controls and control characters removed: `SHOWN_NAME`);
- an inquiry is an inbound tweet that replies to nothing and whose FIRST @mention (an `@`
  not preceded by a letter, digit or `_`, then letters, digits, `_`; compared without case)
  is a brand: it becomes probe `twcs-{tweet_id}` of that brand (country `ZZ` = unknown,
  channel `x`, scope `local`, script `passive`, round 1, message_id = tweet_id);
- its response is the earliest tweet by that brand whose `in_response_to_tweet_id` is the
  inquiry (ties: the smaller tweet_id), stored as reply `tweet_id` with the kind its wording
  gives (`study.kinds`); other tweets are not stored;
- the slot is the inquiry's UTC time: `weekend` (Saturday, Sunday), else `business`
  (09:00-17:00), `evening` (17:00-22:00) or `night` (00:00-09:00 and 22:00-24:00), with the
  slot occurrence's UTC bounds as slot_start_at/slot_end_at;
- the as-of time (meta last_observation) is the latest `created_at` in the file; a probe is
  `closed` when created_at + window <= as-of, else `sent`.

The probes and replies are kept in Parquet files beside the journal, not in its tables
(study.journal.corpus): written by pyarrow from DuckDB's Arrow batches, never a Python row.

Bare carriage returns inside unquoted text (seen in the real file) would end a row in any
CSV reader, so the file is first copied with each bare CR replaced by the otherwise unused
byte 0x1E (CRLF line ends become LF), which the query turns back into CR; a file without
any CR is read as it is (analysis.twcs_file).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from analysis.imports import check_window
from analysis.sql_kinds import auto_ack_re2, redirect_re2
from analysis.twcs_file import COLUMNS, column_names, without_bare_cr
from study.csvrows import UNSHOWABLE
from study.errors import Problem, StudyError, StudyProblems
from study.journal import corpus
from study.journal.imports import read_journal
from study.load_tables import TARGET_LIMITS
from study.paths import journal_path
from study.timeutil import iso, parse_iso

TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
UTC_FORMAT = "%a %b %d %H:%M:%S +0000 %Y"
LOAD_SQL = """
-- Every tweet of the file, typed; times as UTC TIMESTAMPs, CRs restored in the text. Only
-- what the pairing needs is kept (the table is as large as DuckDB's memory): the text of
-- inquiries and brands' tweets (an inbound reply's is never read), the time as written
-- only where it is not a time (for the error message).
CREATE TEMP TABLE tweets AS
SELECT tweet_id, author_id, inbound, CASE WHEN ts IS NULL THEN created_at END AS created_text,
       ts, CASE WHEN inbound AND parent IS NOT NULL THEN '' ELSE text END AS text, parent
FROM (
    SELECT tweet_id, author_id, inbound, created_at,
           -- every time in the real file is UTC (+0000): read without the offset at 3/5
           -- of the cost, the same instant; any other offset is read with it
           coalesce(try_strptime(created_at, $utc_format),
                    try_strptime(created_at, $time_format) AT TIME ZONE 'UTC') AS ts,
           coalesce(replace(text, chr(30), chr(13)), '') AS text,
           CAST(in_response_to_tweet_id AS BIGINT) AS parent
    FROM read_csv($path, header = true, names = $names, types = $types, delim = ',',
                  quote = '"', escape = '"', new_line = '\\n')
)
"""

PAIRS_SQL = """
-- Inquiries (inbound, replying to nothing, first @mention a brand) and their first responses.
WITH brands AS (
    -- Names as they may be shown (see SHOWN_NAME): cleaned, not refused, in passive data;
    -- once per brand.
    SELECT brand, left(regexp_replace(brand, $unshowable, '', 'g'), $brand_chars) AS shown,
           left(regexp_replace(handle, $unshowable, '', 'g'), $handle_chars) AS handle
    FROM (SELECT lower(author_id) AS brand, min(author_id) AS handle
          FROM tweets WHERE NOT inbound GROUP BY ALL)
),
inquiries AS (
    SELECT t.tweet_id, t.ts, t.text, b.brand, b.shown, b.handle
    FROM tweets AS t
    -- A text that starts with a mention (nearly all) has that one first: the anchored
    -- pattern finds it at a third of the cost; the same mention as the general one's.
    JOIN brands AS b
      ON lower(CASE WHEN regexp_matches(t.text, '^@[A-Za-z0-9_]')
                    THEN regexp_extract(t.text, '^@([A-Za-z0-9_]+)', 1)
                    ELSE regexp_extract(t.text, '(?:^|[^A-Za-z0-9_])@([A-Za-z0-9_]+)', 1)
               END) = b.brand
    WHERE t.inbound AND t.parent IS NULL
),
responses AS (
    SELECT i.tweet_id AS inquiry, r.tweet_id, r.author_id, r.ts, r.text
    FROM inquiries AS i
    JOIN tweets AS r ON r.parent = i.tweet_id AND lower(r.author_id) = i.brand
    WHERE NOT r.inbound
    QUALIFY row_number() OVER (PARTITION BY i.tweet_id ORDER BY r.ts, r.tweet_id) = 1
),
slotted AS (
    SELECT i.*,
        CASE WHEN isodow(i.ts) >= 6 THEN 'weekend'
             WHEN hour(i.ts) BETWEEN 9 AND 16 THEN 'business'
             WHEN hour(i.ts) BETWEEN 17 AND 21 THEN 'evening'
             ELSE 'night' END AS slot,
        date_trunc('day', i.ts) AS day
    FROM inquiries AS i
)
SELECT
    -- times as TIMESTAMPs (a third of the room of their text), written out as text by
    -- PROBES_SQL and REPLIES_SQL
    s.tweet_id, s.shown AS brand, s.handle, s.slot, s.text, s.ts,
    s.day + CASE s.slot WHEN 'business' THEN INTERVAL 9 HOUR
        WHEN 'evening' THEN INTERVAL 17 HOUR WHEN 'weekend' THEN INTERVAL 0 HOUR
        ELSE CASE WHEN hour(s.ts) < 9 THEN INTERVAL 0 HOUR ELSE INTERVAL 22 HOUR END
        END AS slot_start,
    s.day + CASE s.slot WHEN 'business' THEN INTERVAL 17 HOUR
        WHEN 'evening' THEN INTERVAL 22 HOUR WHEN 'weekend' THEN INTERVAL 24 HOUR
        ELSE CASE WHEN hour(s.ts) < 9 THEN INTERVAL 9 HOUR ELSE INTERVAL 24 HOUR END
        END AS slot_end,
    -- to the millisecond, as the journal keeps times (study.timeutil.iso)
    date_trunc('millisecond', s.ts + to_microseconds($window_us)) AS closes,
    r.tweet_id AS reply_id,
    left(regexp_replace(r.author_id, $unshowable, '', 'g'), $handle_chars) AS author_id,
    r.text AS reply_text,
    r.ts AS replied,
    CASE WHEN regexp_matches(r.text, $auto_ack) THEN 'auto_ack'
         WHEN regexp_matches(r.text, $redirect) THEN 'redirect'
         ELSE 'public_reply' END AS kind
FROM slotted AS s LEFT JOIN responses AS r ON r.inquiry = s.tweet_id
"""

PROBES_SQL = """
-- The journal's probes, in the order of sending (sorted here rather than in `pairs`: by now
-- the tweets are gone and the sort has DuckDB's memory to itself): closed when the window
-- ended by the as-of. Times as UTC timestamps, which the corpus file keeps
-- (study.journal.corpus.TIMES).
SELECT 'twcs-' || tweet_id AS probe_id, brand, 'ZZ' AS country, 'x' AS channel, handle,
       'local' AS scope, 'passive' AS script, slot, 1::BIGINT AS round, text,
       ts AS scheduled_at, slot_start AS slot_start_at, slot_end AS slot_end_at,
       CASE WHEN closes <= $as_of THEN 'closed' ELSE 'sent' END AS state, ts AS sent_at,
       tweet_id::VARCHAR AS message_id, closes AS closes_at,
       CASE WHEN closes <= $as_of THEN closes END AS closed_at
FROM pairs
ORDER BY ts, tweet_id
"""

REPLIES_SQL = """
-- Each probe's response (if any), with the kind its wording gives (study.kinds), in the order
-- of the probes.
SELECT 'x' AS channel, reply_id::VARCHAR AS reply_id, 'twcs-' || tweet_id AS probe_id,
       author_id AS author, author_id, reply_text AS text, replied AS created_at, kind,
       tweet_id::VARCHAR AS in_reply_to, tweet_id::VARCHAR AS conversation_id,
       replied AS seen_at
FROM pairs WHERE reply_id IS NOT NULL
ORDER BY ts, tweet_id
"""

# A name from the corpus (brand, handle and author are author ids) as it may be shown: the
# direction controls and control characters that study.load_tables refuses in targets.csv are
# removed and the length is cut to targets.csv's limit. TWCS is third-party passive data of
# millions of rows, so a name is cleaned rather than the file refused; the parameters of the
# `left(regexp_replace(...))` expressions in PAIRS_SQL.
SHOWN_NAME = {
    "unshowable": UNSHOWABLE,
    "brand_chars": TARGET_LIMITS["brand"],
    "handle_chars": TARGET_LIMITS["handle"],
}
_BATCH = 100_000  # rows per batch written to the corpus files
_MEMORY = "400MB"  # DuckDB's share; a full TWCS file is 0.35 GB of text


@dataclass(frozen=True)
class TwcsSummary:
    """What a TWCS import found and wrote."""

    journal: Path
    tweets: int  # rows in the file
    brands: int  # distinct brands with at least one inquiry
    inquiries: int  # probes written
    responses: int  # inquiries with a response (replies written)
    closed: int  # probes whose window ended by the as-of time
    last_observation: datetime  # the as-of time: the file's latest created_at


def import_twcs(
    csv_path: Path,
    study_dir: Path,
    window_hours: float = 72,
    *,
    step: Callable[[str], None] = lambda _: None,
) -> TwcsSummary:
    """Read a TWCS-format file into a new journal in `study_dir` (which must have none);
    `step` is told each step as it starts (for a progress display)."""
    check_window(window_hours)
    path = journal_path(study_dir)
    existing = read_journal(study_dir)
    if existing is not None:
        existing.close()
        raise StudyError(
            f"{path}: this study folder already has a journal; import the corpus into a new "
            "folder (or move the journal away first)"
        )
    names = column_names(csv_path)
    step(f"reading {csv_path.name}")
    with tempfile.TemporaryDirectory(prefix="replybench-twcs-") as tmp:
        clean = without_bare_cr(csv_path, Path(tmp))
        # Bounded memory: what does not fit goes to the temporary folder.
        con = duckdb.connect(
            config={
                "memory_limit": _MEMORY,
                "temp_directory": tmp,
                # the journal's rows are sorted as they are written
                "preserve_insertion_order": False,
            }
        )
        try:
            con.execute("SET TimeZone = 'UTC'")
            types = {n: COLUMNS.get(n, "VARCHAR") for n in names}
            params: dict[str, Any] = {"path": str(clean), "names": names, "types": types}
            try:
                con.execute(
                    LOAD_SQL, {**params, "time_format": TIME_FORMAT, "utc_format": UTC_FORMAT}
                )
            except duckdb.Error as e:
                raise StudyProblems([_read_problem(str(e), csv_path, clean)]) from e
            _check_rows(con, str(csv_path))
            n_tweets, as_of = _counts(con)
            if as_of is None:
                raise StudyError(
                    f"{csv_path}:2: has no tweets under the header; import a file with rows"
                )
            step(f"pairing {n_tweets:,} tweets' inquiries and responses")
            window_us = round(window_hours * 3600e6)
            con.execute(
                "CREATE TEMP TABLE pairs AS " + PAIRS_SQL,
                {
                    "window_us": window_us,
                    "auto_ack": auto_ack_re2(),
                    "redirect": redirect_re2(),
                }
                | SHOWN_NAME,
            )
            con.execute("DROP TABLE tweets")  # its memory, before the journal is written
            last = iso(as_of.replace(tzinfo=UTC))
            step("writing the corpus beside the journal")
            return _write(study_dir, path, con, n_tweets, last, window_hours, csv_path)
        finally:
            con.close()


def _read_problem(error: str, csv_path: Path, clean: Path) -> Problem:
    """DuckDB's reading error as a problem of the researcher's file (the copy keeps its lines)."""
    lines = [line.strip() for line in error.replace(str(clean), str(csv_path)).splitlines()]
    at = re.search(r"CSV Error on Line: (\d+)", error)
    detail = next((line for line in lines if line.startswith("Error when")), lines[0])
    return Problem(
        str(csv_path),
        int(at.group(1)) if at else None,
        f"not readable as a TWCS file ({detail}); check that it is the CSV of the Customer "
        "Support on Twitter data set",
    )


def _check_rows(con: duckdb.DuckDBPyConnection, file: str) -> None:
    problems: list[Problem] = []
    bad_times = con.execute(
        "SELECT tweet_id, created_text FROM tweets WHERE ts IS NULL ORDER BY tweet_id LIMIT 5"
    ).fetchall()
    for tweet_id, text in bad_times:
        problems.append(
            Problem(
                file,
                None,
                f"tweet {tweet_id}: created_at {text!r} is not a time like "
                "'Tue Oct 31 22:10:47 +0000 2017'; correct or remove the row",
            )
        )
    twice = con.execute(
        "SELECT tweet_id FROM tweets GROUP BY tweet_id HAVING count(*) > 1 "
        "ORDER BY tweet_id LIMIT 5"
    ).fetchall()
    for (tweet_id,) in twice:
        problems.append(
            Problem(file, None, f"tweet {tweet_id} appears more than once; keep one row")
        )
    nulls = con.execute(
        "SELECT count(*) FROM tweets WHERE tweet_id IS NULL OR author_id IS NULL OR inbound IS NULL"
    ).fetchone()
    if nulls and nulls[0]:
        problems.append(
            Problem(
                file,
                None,
                f"{nulls[0]} rows lack tweet_id, author_id or inbound; fill them in or "
                "remove those rows",
            )
        )
    if problems:
        raise StudyProblems(problems)


def _counts(con: duckdb.DuckDBPyConnection) -> tuple[int, datetime | None]:
    n, as_of = con.execute("SELECT count(*), max(ts) FROM tweets").fetchone() or (0, None)
    return int(n), as_of


def _write(
    study_dir: Path,
    path: Path,
    pairs: duckdb.DuckDBPyConnection,
    n_tweets: int,
    last: str,
    window_hours: float,
    csv_path: Path,
) -> TwcsSummary:
    """The journal from the `pairs` table, streamed in batches (never a whole table in memory
    twice)."""
    params = {"as_of": parse_iso(last).replace(tzinfo=None)}  # the times are naive UTC
    inquiries, brands, responses, closed = pairs.execute(
        "SELECT count(*), count(DISTINCT brand), count(reply_id),"
        " count(*) FILTER (WHERE closes <= $as_of) FROM pairs",
        params,
    ).fetchall()[0]
    corpus.create(
        study_dir,
        {
            "probes": lambda: pairs.sql(PROBES_SQL, params=params).to_arrow_reader(_BATCH),
            "replies": lambda: pairs.sql(REPLIES_SQL).to_arrow_reader(_BATCH),
        },
        {
            "study_name": study_dir.resolve().name,
            "window_hours": repr(float(window_hours)),
            "source": "twcs",
            "last_observation": last,
        },
        (last, f"{csv_path.name}: {inquiries} inquiries (twcs)"),
    )
    return TwcsSummary(
        journal=path,
        tweets=n_tweets,
        brands=int(brands),
        inquiries=int(inquiries),
        responses=int(responses),
        closed=int(closed),
        last_observation=parse_iso(last),
    )
