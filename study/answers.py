"""What counts as a brand's answer to a probe, defined once for every count of "answered".

A probe is answered by its first response: a public reply, direct message or redirect,
written by an official account of the probe's brand, within the probe's window (see
`study/sql/responses.sql`). Status, the run log, the replies export, the rating sheets and
the analysis all read that one file: SQLite on the journal here, DuckDB in `analysis`
(whose queries include it with a `-- include: responses` line, expanded by `sql_text`).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass
from importlib.resources import files

from study.journal.schema import has_column

_INCLUDE = re.compile(r"^-- include: ([a-z_]+)$", re.MULTILINE)


@functools.cache
def sql_text(name: str) -> str:
    """The text of `study/sql/{name}.sql`, its `-- include: NAME` lines expanded."""
    return expand(files("study").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8"))


def expand(sql: str) -> str:
    """`sql` with each line `-- include: NAME` replaced by the text of `study/sql/NAME.sql`."""
    return _INCLUDE.sub(lambda m: sql_text(m.group(1)).rstrip().rstrip(";"), sql)


# A reply whose platform time was not to be believed (`time_suspect`, see probes.journal) has
# no time to count: the analysis leaves it out (analysis.outcomes), and so does every query
# here. A CTE named `replies` shadows the table in SQLite; a journal made before the column
# existed (read-only: not migrated yet) has no such replies.
_TRUSTED = "replies AS (SELECT * FROM main.replies WHERE time_suspect IS NULL),\n"
_WITH = re.compile(r"^WITH\n", re.MULTILINE)


def journal_sql(con: sqlite3.Connection, name: str) -> str:
    """`sql_text(name)` for the journal on `con`, reading only its trusted replies."""
    text = sql_text(name)
    if not has_column(con, "replies", "time_suspect"):
        return text
    return _WITH.sub(lambda m: m.group(0) + _TRUSTED, text, count=1)


def answered_count(con: sqlite3.Connection) -> int:
    """How many probes of the journal on `con` have a response (study/sql/answered.sql)."""
    row = con.execute(journal_sql(con, "answered")).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class MatchedReply:
    """A reply matched to a sent probe, as study/sql/journal_replies.sql reads it."""

    channel: str
    reply_id: str
    probe_id: str
    brand: str
    handle: str
    inquiry_text: str
    author: str
    author_id: str
    reply_text: str
    kind: str
    official: bool  # written by an official account of the probe's brand
    first_response: bool  # the probe's first response, the one the analysis times


def matched_replies(con: sqlite3.Connection) -> list[MatchedReply]:
    """Every reply of the journal on `con` matched to a sent probe, oldest first."""
    rows = con.execute(journal_sql(con, "journal_replies")).fetchall()
    return [
        MatchedReply(
            channel=str(r[0]),
            reply_id=str(r[1]),
            probe_id=str(r[2]),
            brand=str(r[3]),
            handle=str(r[4]),
            inquiry_text=str(r[5]),
            author=str(r[6]),
            author_id=str(r[7]),
            reply_text=str(r[8]),
            kind=str(r[9]),
            official=bool(r[10]),
            first_response=bool(r[11]),
        )
        for r in rows
    ]
