"""`replybench analyze`: a study's response statistics and comparisons as JSON-ready data.

`analyze(study_dir)` reads the journal, builds the outcomes at the as-of time (default: the
journal's last observation), computes every group's statistics (analysis.metrics) and the
comparisons between brands (analysis.compare), and returns plain dicts, lists, strings,
ints, floats and None: floats rounded (4 decimals; p-values to 4 significant digits), times
ISO 8601 UTC, groups and pairs in a fixed order, so the same journal gives the same bytes
under `json.dumps(..., sort_keys=True)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.compare import REPLICATES, SEED, brand_samples, comparisons
from analysis.metrics import (
    ANSWER_COLUMNS,
    ANSWER_GROUPINGS,
    GROUPINGS,
    METRIC_COLUMNS,
    group_metrics,
    with_answers,
)
from analysis.outcomes import Prepared, prepare, study_counts
from analysis.personas import PERSONA, persona_results
from study.timeutil import iso

DIGITS = 4
COUNT_COLUMNS = {"probes", "answered", "auto_acks", "open"}


def analyze(
    study_dir: Path,
    as_of: datetime | None = None,
    *,
    replicates: int = REPLICATES,
    seed: int = SEED,
    step: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The study's counts, every group's statistics and the brand comparisons (`step` is
    told each step as it starts, for a progress display).

    Shape: {"study": {name, window_hours, as_of, probes, planned, sent, open, missed, failed,
    caught_up, ambiguous_dms, first_sent_at, last_sent_at}, "groups": {grouping: [{key
    columns..., metrics...}]}, "comparisons": {pairwise, ranks, tiers, rank_metric,
    bootstrap_replicates, seed}}; a study asked through several personas also has the groupings
    persona, brand_persona and persona_A (each persona attribute A) and "persona_effects"
    (analysis.personas).
    Raises StudyError for a missing or unreadable journal and for a bad as-of time.
    """
    step("reading the journal and each probe's first response")
    prepared = prepare(study_dir, as_of)
    try:
        step(f"group statistics, log-rank tests and {replicates:,} bootstrap replicates")
        return analyze_prepared(prepared, replicates=replicates, seed=seed)
    finally:
        prepared.con.close()


def analyze_prepared(
    prepared: Prepared, *, replicates: int = REPLICATES, seed: int = SEED
) -> dict[str, Any]:
    """`analyze` on a journal already loaded (`analysis.outcomes.prepare`), whose connection
    the caller keeps: it holds the outcomes and, after this, the curves' working tables."""
    con, info = prepared.con, prepared.info
    samples = brand_samples(con)
    # The comparisons (numpy on the brands' samples; the bootstrap's drawing is one
    # sequential stream) in a thread of their own, while DuckDB works out every group's
    # statistics on the core it leaves: neither result depends on the other's timing.
    with ThreadPoolExecutor(max_workers=1) as pool:
        comparing = pool.submit(
            comparisons, samples, info.window_hours, replicates=replicates, seed=seed
        )
        counts = study_counts(con, as_of=prepared.as_of)
        table = group_metrics(con, window_hours=info.window_hours)
        table = with_answers(con, table, window_hours=info.window_hours)
        personas = persona_results(con, info.path, window_hours=info.window_hours)
        compared = comparing.result()
    groups = groups_json(table)
    if personas is not None:
        tables, effects = personas
        groups |= persona_groups_json(tables)
    result: dict[str, Any] = {
        "study": {
            "name": info.name,
            "window_hours": info.window_hours,
            "as_of": iso(prepared.as_of),
            "probes": counts.probes,
            "planned": counts.planned,
            "sent": counts.sent,
            # sent probes without a response whose window had not ended by as_of: the
            # response rate counts them as unanswered so far, the Kaplan-Meier shares only
            # for as long as they were watched (so those can be higher)
            "open": int(table["open"].iloc[0]),
            "missed": counts.missed,
            "failed": counts.failed,
            "caught_up": info.caught_up,
            "ambiguous_dms": info.ambiguous_dms,
            "first_sent_at": None if counts.first_sent_at is None else iso(counts.first_sent_at),
            "last_sent_at": None if counts.last_sent_at is None else iso(counts.last_sent_at),
        },
        "groups": groups,
        "comparisons": comparisons_json(compared),
    }
    if personas is not None:
        result["persona_effects"] = effects
    return result


def groups_json(table: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """group_metrics' rows by grouping, each with its own key columns and rounded metrics
    (ANSWER_COLUMNS, where `table` has them, only in ANSWER_GROUPINGS)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, columns in GROUPINGS:
        rows = table[table["grouping"] == name]
        # The time to the first substantive answer is only worked out for some groupings.
        answers = [c for c in ANSWER_COLUMNS if c in table.columns]  # with_answers's
        metrics = [*METRIC_COLUMNS, *(answers if name in ANSWER_GROUPINGS else [])]
        out[name] = [
            {
                **{col: str(row[col]) for col in columns},
                **{col: _metric(col, row[col]) for col in metrics},
            }
            for row in rows.to_dict("records")
        ]
    return out


def persona_groups_json(
    tables: dict[str, tuple[str, pd.DataFrame]],
) -> dict[str, list[dict[str, Any]]]:
    """persona_results' tables as groupings: each one's levels (the regrouped `country`
    groups) under its key column, and each brand by persona (`brand_persona`)."""

    def renamed(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        return [{(key if k == "country" else k): v for k, v in row.items()} for row in rows]

    out: dict[str, list[dict[str, Any]]] = {}
    for name, (key, table) in tables.items():
        rows = groups_json(table)
        out[name] = renamed(rows["country"], key)
        if name == PERSONA:
            out["brand_persona"] = renamed(rows["brand_country"], key)
    return out


def comparisons_json(compared: dict[str, Any]) -> dict[str, Any]:
    """The comparisons with chi-square rounded and p-values to 4 significant digits."""
    return {
        **compared,
        "pairwise": [
            {
                "a": t["a"],
                "b": t["b"],
                "chi2": round(t["chi2"], DIGITS),
                "p": _significant(t["p"]),
                "p_holm": _significant(t["p_holm"]),
            }
            for t in compared["pairwise"]
        ],
    }


def _metric(column: str, value: Any) -> int | float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if column in COUNT_COLUMNS:
        return int(value)
    return round(float(value), DIGITS) + 0.0  # + 0.0 turns -0.0 into 0.0


def _significant(p: float) -> float:
    return float(f"{p:.4g}")
