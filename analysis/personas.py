"""The personas of a study as groupings of its probes: statistics and effects for analyze.

A study asked through several personas (study.personas: `[personas.NAME]` tables, each
probe's sender recorded in the journal's `probes.persona`) gets, in `analyze`'s result:

- `groups["persona"]`, `groups["brand_persona"]` and, for each persona attribute A (the
  journal's `persona_attributes`: country, language, followers, ...), `groups["persona_A"]`
  with the key column `A`: the same statistics as every other grouping (analysis.metrics,
  computed by the same queries on the outcomes regrouped by the persona or the attribute's
  level, as analysis.publish regroups by slot);
- `persona_effects`: for `persona` and each `persona_A`, the brand-stratified difference in
  response rate of every level against the reference level with its 95% interval and the
  stratified log-rank test (analysis.persona_effect), floats rounded as `analyze` rounds.

A study without personas, or with one account per channel (named after the channel), has
neither: its result is what it was before personas existed. Probes whose persona lacks an
attribute are left out of that attribute's grouping only (counted as `unknown`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from analysis.metrics import group_metrics
from analysis.persona_effect import persona_effects
from study.journal.senders import persona_senders
from study.model import Study

PERSONA = "persona"
ATTRIBUTE_PREFIX = "persona_"
DIGITS = 4  # as analysis.analyze rounds
_COPY = "persona_outcomes"  # the outcomes as they were, while they are regrouped


def probe_levels(path: Path) -> pa.Table:
    """Each probe's level in every persona grouping, from the journal at `path`: rows
    (probe_id, grouping, key, level), grouping `persona` (key `persona`) and `persona_A`
    (key `A`) for each attribute A of the probe's persona. Empty unless the journal names at
    least two personas of its own (study.journal.senders)."""
    senders, attributes = persona_senders(path)
    rows: list[tuple[str, str, str, str]] = []
    for probe_id, name in senders:
        rows.append((probe_id, PERSONA, PERSONA, name))
        for attribute, value in attributes.get(name, {}).items():
            rows.append((probe_id, ATTRIBUTE_PREFIX + attribute, attribute, value))
    columns = list(zip(*rows, strict=False)) or [(), (), (), ()]
    return pa.Table.from_arrays(
        [pa.array(list(c), pa.string()) for c in columns],
        names=["probe_id", "grouping", "key", "level"],
    )


def persona_results(
    con: duckdb.DuckDBPyConnection, path: Path, *, window_hours: float
) -> tuple[dict[str, tuple[str, pd.DataFrame]], dict[str, Any]] | None:
    """The persona groupings of the outcomes on `con` and the journal at `path`: for each
    grouping its key column and group_metrics' table of the regrouped outcomes (whose
    `country` groups are the grouping's levels, and for `persona` whose `brand_country`
    groups are each brand by persona), and the effects (for `persona_effects`, as JSON).
    None for a study without several personas. Leaves `outcomes` as it was."""
    levels = probe_levels(path)
    if levels.num_rows == 0:
        return None
    con.register("probe_levels", levels)
    keys = dict(
        con.execute("SELECT DISTINCT grouping, key FROM probe_levels ORDER BY grouping").fetchall()
    )
    names = [PERSONA, *sorted(k for k in keys if k != PERSONA)]
    con.table("outcomes").create(_COPY)
    tables: dict[str, tuple[str, pd.DataFrame]] = {}
    effects: dict[str, Any] = {}
    try:
        for name in names:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE outcomes AS "
                "SELECT o.* REPLACE (l.level AS country) FROM persona_outcomes AS o "
                "JOIN probe_levels AS l USING (probe_id) WHERE l.grouping = $grouping",
                {"grouping": name},
            )
            key = keys[name]
            tables[name] = (key, group_metrics(con, window_hours=window_hours))
            frame = con.execute(
                "SELECT brand, country AS level, observed, duration_hours FROM outcomes"
            ).df()
            effects[name] = _effects_json(name, key, frame, _unknown(con, name))
    finally:
        con.execute(f"CREATE OR REPLACE TEMP TABLE outcomes AS SELECT * FROM {_COPY}")
        con.execute(f"DROP TABLE {_COPY}")
        con.unregister("probe_levels")
    return tables, effects


def _unknown(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """Sent probes whose persona has no level in grouping `name`."""
    row = con.execute(
        "SELECT count(*) FROM persona_outcomes AS o WHERE NOT EXISTS (SELECT 1 FROM "
        "probe_levels AS l WHERE l.probe_id = o.probe_id AND l.grouping = $grouping)",
        {"grouping": name},
    ).fetchone()
    return int(row[0]) if row else 0


def _effects_json(name: str, key: str, frame: pd.DataFrame, unknown: int) -> dict[str, Any]:
    """persona_effects of one grouping as rounded JSON, with the attribute it groups by."""
    if frame.empty:
        out: dict[str, Any] = {"grouping": name, "reference": None, "probes": 0, "levels": []}
        out |= {"effects": [], "logrank": None}
    else:
        out = persona_effects(frame, "level").to_json()
        out["grouping"] = name
    out["attribute"] = None if name == PERSONA else key
    out["unknown"] = unknown
    result: dict[str, Any] = _rounded(out)
    return result


def _rounded(value: Any, key: str = "") -> Any:
    """Floats rounded as analyze rounds them: p-values to 4 significant digits, the rest to
    4 decimals; NaN and infinities as None."""
    if isinstance(value, dict):
        return {k: _rounded(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v, key) for v in value]
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if key == "p" or key.endswith("_p"):
            return float(f"{value:.4g}")
        return round(value, DIGITS) + 0.0  # + 0.0 turns -0.0 into 0.0
    return value


def persona_design(study: Study) -> dict[str, Any]:
    """What design.json adds for the method page: the personas (no accounts: they are the
    researchers' own, masked on the site), the assignment design and the ethics approval;
    {} for a study with neither, whose design.json stays as it was."""
    out: dict[str, Any] = {}
    if study.personas:
        out["personas"] = [
            {"persona": p.name, "channel": p.channel, "attributes": dict(p.attributes)}
            for p in study.personas
        ]
        a = study.assignment
        out["assignment"] = (
            None if a is None else {"design": a.design, "max_per_brand": a.max_per_brand}
        )
    approval = study.ethics.approval
    if approval is not None:
        out["approval"] = {
            "board": approval.board,
            "reference": approval.reference,
            "date": approval.date.isoformat(),
        }
    return out
