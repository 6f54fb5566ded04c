"""What counts as a brand's answer to a probe, defined once for every count of "answered".

A probe is answered by its first response: a public reply, direct message or redirect,
written by an official account of the probe's brand, within the probe's window (see
`study/journal/sql/responses.sql`). Status, the run log, the replies export, the rating
sheets and the analysis all read that one file: SQLite on the journal here, DuckDB in
`analysis` (whose queries include it with a `-- include: responses` line, expanded by
`study.journal.queries.expand`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from study.journal.queries import journal_sql


def answered_count(con: sqlite3.Connection) -> int:
    """How many probes of the journal on `con` have a response (sql/answered.sql)."""
    row = con.execute(journal_sql(con, "answered")).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class MatchedReply:
    """A reply matched to a sent probe, as study/journal/sql/journal_replies.sql reads it."""

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
