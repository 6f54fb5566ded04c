"""Censored response statistics per group, computed in DuckDB.

For every group of every grouping (overall, brand, country, brand_country, channel, slot,
scope): probes, answered, auto_acks, the response rate with its Wilson 95% interval, and
from the Kaplan-Meier curve of time to first response the median (with a 95% interval),
the shares answered within 1, 12 and 24 hours and the restricted mean time to response.
Definitions are in the headers of `analysis/sql/km_steps.sql` and `group_metrics.sql`; in
short:

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


def create_group_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Make the temporary table `group_counts`: every group's size (group_counts.sql)."""
    con.execute(sql_text("group_counts"))


def create_km_steps(con: duckdb.DuckDBPyConnection, *, aggregate: bool | None = None) -> None:
    """Make the temporary tables `group_counts` and `km_steps`, every group's Kaplan-Meier
    curve: one sorted pass per grouping, seven in all, over the probes (km_steps.sql) or,
    where durations tie a lot, over the distinct (group, duration) cells a hash aggregation
    leaves (km_steps_cells.sql; chosen by km_plan.sql). Both give the same rows; `aggregate`
    forces one of them for every grouping (for tests)."""
    create_group_counts(con)
    queries = {False: sql_text("km_steps"), True: sql_text("km_steps_cells")}
    if aggregate is None:
        plan = dict(con.execute(sql_text("km_plan"), {"share": AGGREGATE_SHARE}).fetchall())
    else:
        plan = {name: aggregate for name, _ in GROUPINGS}
    for i, (name, columns) in enumerate(GROUPINGS):
        params: dict[str, object] = {"grouping": name}
        params.update({f"by_{key}": key in columns for key in KEYS})
        into = "CREATE OR REPLACE TEMP TABLE km_steps AS\n" if i == 0 else "INSERT INTO km_steps\n"
        con.execute(into + queries[bool(plan.get(name, False))], params)


def group_metrics(con: duckdb.DuckDBPyConnection, *, window_hours: float) -> pd.DataFrame:
    """Every group's statistics from `group_counts` and `km_steps` (group_metrics.sql).

    One row per group: `grouping`, the five key columns (null where the grouping does not
    use them), then METRIC_COLUMNS. Ordered by grouping (as in GROUPINGS), then keys.
    """
    params = {"window_hours": window_hours, "z": Z95, "tolerance": TOLERANCE}
    return con.execute(sql_text("group_metrics"), params).df()


def brand_curves(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each brand's Kaplan-Meier step curve: brand, time_hours, survival, at_risk, responses."""
    return con.execute(sql_text("km_curves")).df()


def metrics(study_dir: Path, as_of: datetime | None = None) -> pd.DataFrame:
    """Every group's response statistics at `as_of` (default: the last observation)."""
    prepared = prepare(study_dir, as_of)
    try:
        create_km_steps(prepared.con)
        return group_metrics(prepared.con, window_hours=prepared.info.window_hours)
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
        create_km_steps(prepared.con)
        return brand_curves(prepared.con)
    finally:
        prepared.con.close()
