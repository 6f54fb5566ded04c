"""Censored response statistics per group, computed in DuckDB.

For every group of every grouping (overall, brand, country, brand_country, channel, slot,
scope): probes, answered, auto_acks, open (no response yet, window not ended), the response
rate with its Wilson 95% interval, and from the Kaplan-Meier curve of time to first
response the median (with a 95% interval), the shares answered within 1, 12 and 24 hours and
the restricted mean time to response; for the overall and brand groupings also the median
(with its interval) and restricted mean of the time to the first substantive answer (a
public reply or DM, neither a redirect nor an auto-acknowledgement).
Definitions are in the headers of `analysis/sql/km_steps.sql`, `km_summary.sql` and
`group_metrics.sql`; in short:

- The Kaplan-Meier median is the first response time at which the curve is at or below
  0.5, compared with a tolerance (S <= 0.5 + 1e-9) because with few probes the curve often
  sits at exactly 0.5; it is null when the curve never gets there.
- `median_hours_low` / `median_hours_high` invert the pointwise 95% band of S on the
  log(-log) scale with Greenwood's variance (Brookmeyer-Crowley, transformed; the band
  lifelines and R draw): the first times the lower and the upper band reach 0.5.
- `answered_within_Xh` is 1 - S(X hours); `restricted_mean_hours` is the area under S from
  0 to the window (lower is better). Ties: responses before censorings at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from statistics import NormalDist

import duckdb
import pandas as pd

from analysis.outcomes import prepare, sql_text

KEYS = ("brand", "country", "channel", "slot", "scope")
GROUPINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("overall", ()),
    ("brand", ("brand",)),
    ("country", ("country",)),
    ("brand_country", ("brand", "country")),
    ("channel", ("channel",)),
    ("slot", ("slot",)),
    ("scope", ("scope",)),
)
Z95 = NormalDist().inv_cdf(0.975)
TOLERANCE = 1e-9
AGGREGATE_SHARE = 0.25  # km_plan.sql: aggregate when groups x durations <= this x probes
METRIC_COLUMNS = (
    "probes",
    "answered",
    "auto_acks",
    "open",
    "response_rate",
    "response_rate_low",
    "response_rate_high",
    "median_hours",
    "median_hours_low",
    "median_hours_high",
    "answered_within_1h",
    "answered_within_12h",
    "answered_within_24h",
    "restricted_mean_hours",
)
ANSWER_COLUMNS = (
    "answer_median_hours",
    "answer_median_hours_low",
    "answer_median_hours_high",
    "answer_restricted_mean_hours",
)
# The time to the first substantive answer is worked out for these groupings only (the
# company pages and the headline); elsewhere its columns are null.
ANSWER_GROUPINGS = ("overall", "brand")
SUMMARY_COLUMNS = (
    "group_id INTEGER, median_hours DOUBLE, median_hours_low DOUBLE, median_hours_high DOUBLE, "
    "s_1h DOUBLE, s_12h DOUBLE, s_24h DOUBLE, s_end DOUBLE, mean_part DOUBLE"
)


def create_group_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Make the temporary tables `km_cells`, `group_counts` (every group's size, numbered by
    `group_id`) and `km_map` (each finest cell's groups) (group_counts.sql)."""
    con.execute(sql_text("group_counts"))


def create_km_sample(con: duckdb.DuckDBPyConnection) -> None:
    """Make `group_counts` and the temporary table `km_sample`: the probes the curves are
    computed from, each with its group in every grouping (km_sample.sql), and the macros
    the curves read one grouping through (km_grouped.sql)."""
    create_group_counts(con)
    row = con.execute("SELECT max(longest) FROM km_cells").fetchone()
    con.execute(sql_text("km_sample"), {"longest": row[0] if row else None})
    con.execute(sql_text("km_grouped"))


def _step_queries(
    con: duckdb.DuckDBPyConnection, names: Iterable[str], aggregate: bool | None
) -> list[tuple[str, str]]:
    """(grouping, the query of its curves' steps) for each of `names`: km_steps.sql (sort the
    probes) or, where durations tie a lot, km_steps_cells.sql (sort the distinct (group,
    duration) cells a hash aggregation leaves), as km_plan.sql chooses. Both give the same
    rows; `aggregate` forces one of them for every grouping (for tests)."""
    queries = {False: sql_text("km_steps"), True: sql_text("km_steps_cells")}
    if aggregate is None:
        plan = dict(con.execute(sql_text("km_plan"), {"share": AGGREGATE_SHARE}).fetchall())
    else:
        plan = {name: aggregate for name, _ in GROUPINGS}
    return [(name, queries[bool(plan.get(name, False))]) for name in names]


def create_km_steps(
    con: duckdb.DuckDBPyConnection,
    *,
    groupings: Iterable[str] | None = None,
    aggregate: bool | None = None,
) -> None:
    """Make the temporary tables `group_counts`, `km_sample` and `km_steps`: every group's
    Kaplan-Meier curve in `groupings` (default: all seven), one row per response time
    (grouping, key, time_hours, at_risk, responses, survival, drop, greenwood, group_id).

    group_metrics does not need it (it sums each curve up as it goes); charts and tests do.
    """
    known = [name for name, _ in GROUPINGS]
    names = known if groupings is None else list(groupings)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"unknown grouping {unknown[0]!r}; use one of {', '.join(known)}")
    create_km_sample(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE km_steps (grouping VARCHAR, key VARCHAR, "
        "time_hours DOUBLE, at_risk BIGINT, responses BIGINT, survival DOUBLE, drop DOUBLE, "
        "greenwood DOUBLE, group_id INTEGER)"
    )
    for name, query in _step_queries(con, names, aggregate):
        con.execute(
            "INSERT INTO km_steps\n"
            "SELECT g.grouping, g.key, s.* EXCLUDE (group_id), group_id\n"
            f"FROM (\n{query}\n) AS s\n"
            "JOIN group_counts AS g USING (group_id)",
            {"grouping": name},
        )


def group_metrics(
    con: duckdb.DuckDBPyConnection, *, window_hours: float, aggregate: bool | None = None
) -> pd.DataFrame:
    """Every group's statistics from the `outcomes` table (group_metrics.sql).

    Each grouping's curves are computed (as in create_km_steps) and summed up into the
    temporary table `km_summary` as they go (km_summary.sql), never stored whole. One row
    per group: `grouping`, the five key columns (null where the grouping does not use them),
    then METRIC_COLUMNS. Ordered by grouping (as in GROUPINGS), then keys. `with_answers`
    adds the time to the first substantive answer.
    """
    create_km_sample(con)
    _summarise(con, "km_summary", [name for name, _ in GROUPINGS], aggregate)
    params = {"window_hours": window_hours, "z": Z95}
    return con.execute(sql_text("group_metrics"), params).df()


def with_answers(
    con: duckdb.DuckDBPyConnection,
    table: pd.DataFrame,
    *,
    window_hours: float,
    aggregate: bool | None = None,
) -> pd.DataFrame:
    """group_metrics' `table` with ANSWER_COLUMNS: the time to the first substantive answer
    (a public reply or DM; outcomes.sql's answer_hours), its Kaplan-Meier median with the
    same 95% interval and its restricted mean, for ANSWER_GROUPINGS only (null elsewhere):
    the same curves and summaries over a second sample (answer_sample.sql), for two of the
    seven groupings. Replaces km_sample (create_km_steps remakes it)."""
    row = con.execute("SELECT max(answer_hours) FROM outcomes").fetchone()
    con.execute(sql_text("answer_sample"), {"longest": row[0] if row else None})
    con.execute(sql_text("km_grouped"))
    _summarise(con, "answer_summary", ANSWER_GROUPINGS, aggregate)
    answers = con.execute(sql_text("answer_metrics"), {"window_hours": window_hours}).df()
    keys = ["grouping", "brand"]
    return table.merge(answers, on=keys, how="left", validate="many_to_one")


def _summarise(
    con: duckdb.DuckDBPyConnection, table: str, names: Iterable[str], aggregate: bool | None
) -> None:
    """Sum the curves of `names` (from km_sample) up into the temporary table `table`."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({SUMMARY_COLUMNS})")
    summary = sql_text("km_summary")
    for name, query in _step_queries(con, names, aggregate):
        con.execute(
            f"INSERT INTO {table}\nWITH steps AS (\n" + query + "\n)\n" + summary,
            {"grouping": name, "z": Z95, "tolerance": TOLERANCE},
        )


def brand_curves(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each brand's Kaplan-Meier step curve: brand, time_hours, survival, at_risk, responses."""
    return con.execute(sql_text("km_curves")).df()


def metrics(study_dir: Path, as_of: datetime | None = None) -> pd.DataFrame:
    """Every group's response statistics at `as_of` (default: the last observation)."""
    prepared = prepare(study_dir, as_of)
    try:
        window = prepared.info.window_hours
        table = group_metrics(prepared.con, window_hours=window)
        return with_answers(prepared.con, table, window_hours=window)
    finally:
        prepared.con.close()


def km_curves(study_dir: Path, as_of: datetime | None = None) -> pd.DataFrame:
    """Each brand's Kaplan-Meier step curve of time to first response, for charts.

    Columns brand, time_hours, survival, at_risk, responses: a point at 0 hours with
    survival 1, then one per response time (the survival just after it); the curve stays
    flat from its last point to the end of the window.
    """
    prepared = prepare(study_dir, as_of)
    try:
        create_km_steps(prepared.con, groupings=["brand"])
        return brand_curves(prepared.con)
    finally:
        prepared.con.close()
