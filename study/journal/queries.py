"""The journal's SQL files (`study/journal/sql/*.sql`), read once and with their includes.

A file may include another with a line `-- include: NAME`: `responses.sql`, what counts as a
brand's response, is included by the journal's own queries (run by SQLite here) and by the
analysis' (`analysis/sql/outcomes.sql`, run by DuckDB), which expands its files with `expand`.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from importlib.resources import files

from study.journal.schema import has_column, has_table

_INCLUDE = re.compile(r"^-- include: ([a-z_]+)$", re.MULTILINE)


@functools.cache
def sql_text(name: str) -> str:
    """The text of `study/journal/sql/{name}.sql`, its `-- include: NAME` lines expanded."""
    sql = files("study.journal").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
    return expand(sql)


def expand(sql: str) -> str:
    """`sql` with each line `-- include: NAME` replaced by `study/journal/sql/NAME.sql`."""
    return _INCLUDE.sub(lambda m: sql_text(m.group(1)).rstrip().rstrip(";"), sql)


# A reply whose platform time was not to be believed (`time_suspect`, see
# study.journal.inbox) has no time to count: the analysis leaves it out (analysis.outcomes),
# and so does every query here. A CTE named `replies` shadows the table in SQLite; a journal
# made before the column existed (read-only: not migrated yet) has no such replies.
_TRUSTED = "replies AS (SELECT * FROM main.replies WHERE time_suspect IS NULL),\n"
_WITH = re.compile(r"^WITH\n", re.MULTILINE)


# A journal made before personas (read-only: not migrated yet) has no `probes.persona`: each
# probe was sent by its channel's one account, which the column would name.
_PERSONA = "probes AS (SELECT *, channel AS persona FROM main.probes),\n"
# A journal made before the `answers_from` table (read-only: not migrated yet) has none.
_NO_ANSWERS_FROM = "answers_from AS (SELECT '' AS brand, '' AS account WHERE 0),\n"


def journal_sql(con: sqlite3.Connection, name: str) -> str:
    """`sql_text(name)` for the journal on `con`, reading only its trusted replies (and
    each probe's persona, in a journal made before them)."""
    text = sql_text(name)
    ctes = "" if has_column(con, "probes", "persona") else _PERSONA
    if has_column(con, "replies", "time_suspect"):
        ctes += _TRUSTED
    if not has_table(con, "answers_from"):
        ctes += _NO_ANSWERS_FROM
    return _WITH.sub(lambda m: m.group(0) + ctes, text, count=1) if ctes else text
