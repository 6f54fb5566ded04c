"""The quality coding in the journal: the key that blinds rating items, and the ratings.

`analysis.ratings` makes the sheets and summarises them; the statements on the journal are
here. A rating is (probe_id, rater, satisfaction 1-5, answered yes/partly/no, note,
imported_at); a rater's later rating of the same probe replaces the earlier one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from study.journal.imports import meta_value

KEY_META = "rating_key"  # the meta key of the random key that blinds the items

Rating = tuple[str, str, int, str, str, str]  # probe_id, rater, satisfaction, answered, note, at
# probe_id, brand, rater, satisfaction, answered: one row per rating of a probe
RatedRow = tuple[str, str, str, int, str]


def rating_key(con: sqlite3.Connection) -> str | None:
    """The journal's rating key, None before the first rating sheet."""
    return meta_value(con, KEY_META)


def probe_ids(con: sqlite3.Connection) -> list[str]:
    return [str(r[0]) for r in con.execute("SELECT probe_id FROM probes")]


def store_ratings(con: sqlite3.Connection, ratings: Iterable[Rating]) -> None:
    con.executemany(
        "INSERT INTO ratings (probe_id, rater, satisfaction, answered, note, imported_at)"
        " VALUES (?,?,?,?,?,?) ON CONFLICT(probe_id, rater) DO UPDATE SET"
        " satisfaction = excluded.satisfaction, answered = excluded.answered,"
        " note = excluded.note, imported_at = excluded.imported_at",
        ratings,
    )


def rated(con: sqlite3.Connection) -> list[RatedRow]:
    """Every rating with its probe's brand, by brand, probe and rater."""
    return [
        (str(p), str(b), str(r), int(s), str(a))
        for p, b, r, s, a in con.execute(
            "SELECT r.probe_id, p.brand, r.rater, r.satisfaction, r.answered FROM ratings AS r"
            " JOIN probes AS p USING (probe_id) ORDER BY p.brand, r.probe_id, r.rater"
        )
    ]
