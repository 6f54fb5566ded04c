"""The data behind a study's published site: every file `reports` renders, in one folder.

`publish_data(study_dir, data_dir, as_of=None)` reads the journal once more at the as-of
time (default: its last observation) and writes, each file whole or not at all:

- `outcomes.csv`: one row per sent probe (`analysis.outcomes`), times ISO 8601 UTC.
- `metrics.json`: `analysis.analyze`'s result: study counts, every group's statistics, the
  comparisons between brands.
- `breakdowns.json`: the same statistics per brand and slot, brand and scope, brand and
  channel (`brand_slot`, `brand_scope`, `brand_channel`), and the kinds of first response
  per brand and for the field (`kinds`, `field_kinds`), and, where targets.csv states
  service hours, each brand's probes sent inside and outside them (`brand_service_hours`,
  analysis.service_hours), and the share of answers in the inquiry's language per brand,
  country and both (`answer_language`, analysis.answer_language).
- `curves.csv`: the Kaplan-Meier steps of the field and of each brand (publish_curves.sql).
- `exchanges.json`: up to four example exchanges per brand (publish_exchanges.sql), the
  researchers' probe accounts masked as `[probe account]` in their texts.
- `quality.json`: `analysis.ratings.quality`, the coded quality (no brands when uncoded).
- `waves.json`: only for a study whose study.toml names its previous wave: what changed since
  (`analysis.waves.compare_waves`, each wave at its last observation).
- `design.json`: the design from study.toml (slots, scripts, window, caps, countries,
  brands, targets including those with no account; the personas, their assignment and the
  ethics approval where study.toml has them, analysis.personas.persona_design) or, for a
  study imported from a CSV or a TWCS corpus (no study.toml), what the journal shows, with
  `"known": false`.
- `manifest.json`: what produced the files above (`analysis.manifest`): versions, the
  study folder's fingerprint, the as-of time, the bootstrap settings, each file's SHA-256.

The same journal and as-of time give the same bytes: rows in a fixed order, floats rounded
as `analyze` rounds them, JSON with sorted keys.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from analysis.analyze import DIGITS, analyze_prepared, groups_json
from analysis.answer_language import answer_languages
from analysis.compare import REPLICATES, SEED
from analysis.import_names import read_names
from analysis.manifest import MANIFEST_FILE, manifest
from analysis.masking import masker
from analysis.metrics import create_km_steps, group_metrics
from analysis.outcomes import OUTCOME_TIMES, outcomes_frame, prepare, sql_text
from analysis.personas import persona_design
from analysis.ratings import quality
from analysis.service_hours import service_hours_split
from analysis.waves import compare_waves
from study import csvout
from study.atomic import write_atomic
from study.countries import COUNTRIES
from study.journal.tables import read_meta_value, texts
from study.load import TOML_FILE, load_study
from study.model import WEEKDAYS, Study

FILES = (
    "outcomes.csv",
    "metrics.json",
    "breakdowns.json",
    "curves.csv",
    "exchanges.json",
    "quality.json",
    "design.json",
    MANIFEST_FILE,
)
REGROUPINGS = ("slot", "scope", "channel")
WAVES_FILE = "waves.json"  # for a study with a previous wave: analysis.waves.compare_waves


def publish_data(
    study_dir: Path,
    data_dir: Path,
    as_of: datetime | None = None,
    *,
    replicates: int = REPLICATES,
    seed: int = SEED,
) -> list[Path]:
    """Write the site's data files (FILES) into `data_dir`; their paths, in FILES' order.

    Raises StudyError for a missing or unreadable journal or a bad as-of time, and
    StudyProblems when the folder's study.toml has problems.
    """
    # First: a broken study.toml fails before any work.
    study = load_study(study_dir) if (study_dir / TOML_FILE).is_file() else None
    design = None if study is None else design_json(study, _source(study_dir))
    prepared = prepare(study_dir, as_of)
    con, info = prepared.con, prepared.info
    try:
        result = analyze_prepared(prepared, replicates=replicates, seed=seed)
        outcomes = outcomes_csv(outcomes_frame(con))
        create_km_steps(con, groupings=["overall", "brand"])
        curves = con.execute(sql_text("publish_curves")).df()
        kinds = con.execute(sql_text("publish_kinds")).df()
        examples = exchanges(con, study_dir, masker(study))
        labels = con.execute(sql_text("publish_labels")).df()
        if design is None:
            design = journal_design(con, study_dir, info.name, info.window_hours, labels)
        _count_labels(design, labels)
        broken = breakdowns(con, info.window_hours)
        if study is not None:
            broken["brand_service_hours"] = service_hours_split(con, study, info.window_hours)
            broken["answer_language"] = answer_languages(con, study_dir, study)
    finally:
        con.close()
    broken["kinds"] = _records(kinds[kinds["brand"].notna()])
    field = _records(kinds[kinds["brand"].isna()].drop(columns="brand"))
    broken["field_kinds"] = field[0] if field else None
    contents: dict[str, bytes] = {
        "outcomes.csv": outcomes,
        "metrics.json": _json(result),
        "breakdowns.json": _json(broken),
        "curves.csv": _csv(curves.round(DIGITS + 2)),
        "exchanges.json": _json(examples),
        "quality.json": _json(_rounded(quality(study_dir))),
        "design.json": _json(design),
    }
    previous = None if study is None else study.previous
    if previous is not None:
        changes = compare_waves(previous, study_dir, replicates=replicates, seed=seed)
        contents[WAVES_FILE] = _json(changes)
    contents[MANIFEST_FILE] = _json(
        manifest(
            study_dir, as_of=result["study"]["as_of"], replicates=replicates, seed=seed,
            contents=contents,
        )
    )  # fmt: skip
    paths = []
    for name in (*FILES, WAVES_FILE):
        path = data_dir / name
        if name in contents:
            write_atomic(path, contents[name])
            paths.append(path)
        elif path.is_file():
            path.unlink()  # waves.json from an earlier publication into this folder
    return paths


def outcomes_csv(df: pd.DataFrame) -> bytes:
    """The outcomes as CSV: times ISO 8601 UTC with milliseconds (empty when none)."""
    df = df.copy()
    for col in OUTCOME_TIMES:
        text = df[col].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.slice(0, 23) + "Z"
        df[col] = text.where(df[col].notna(), "")
    df["duration_hours"] = df["duration_hours"].round(6)
    df["observed"] = df["observed"].map({True: "true", False: "false"})
    return _csv(df)


def breakdowns(con: duckdb.DuckDBPyConnection, window_hours: float) -> dict[str, Any]:
    """Each brand's statistics per slot, scope and channel (publish_regroup.sql).

    Runs group_metrics on the outcomes with the country column replaced, and keeps its
    brand_country groups, so the definitions are exactly those of metrics.json. Leaves
    `outcomes` as it was (and its copy in `published_outcomes`).
    """
    con.table("outcomes").create("published_outcomes")
    out: dict[str, Any] = {}
    try:
        for by in REGROUPINGS:
            con.execute(sql_text("publish_regroup"), {"by": by})
            rows = groups_json(group_metrics(con, window_hours=window_hours))["brand_country"]
            out[f"brand_{by}"] = [
                {(by if k == "country" else k): v for k, v in row.items()} for row in rows
            ]
    finally:
        con.execute(sql_text("publish_regroup"), {"by": "country"})
    return out


def exchanges(
    con: duckdb.DuckDBPyConnection, study_dir: Path, mask: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Example exchanges per brand, texts included (publish_exchanges.sql), with `mask`
    (analysis.masking: the study's probe accounts) applied to them."""
    probe_texts, reply_texts = texts(study_dir)
    con.register("probe_texts", _strings(probe_texts))
    con.register("reply_texts", _strings(reply_texts))
    df = con.execute(sql_text("publish_exchanges")).df()
    for col in ("inquiry_text", "reply_text"):
        df[col] = df[col].map(mask)
    for col in ("sent_at", "replied_at"):
        df[col] = df[col].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.slice(0, 23) + "Z"
    df["hours"] = df["hours"].round(DIGITS)
    return _records(df)


def design_json(study: Study, source: str) -> dict[str, Any]:
    """A Study as JSON-ready data for the methodology page (no channel credentials)."""
    brands: dict[str, dict[str, str]] = {}
    for t in study.targets:
        brands.setdefault(t.brand, {"brand": t.brand, "name": t.brand_name, "sector": t.sector})
    return {
        "known": True,
        "source": source,
        "name": study.name,
        "window_hours": study.window_hours,
        "start": study.start.isoformat(),
        "end": study.end.isoformat(),
        "probes_per_target": study.probes_per_target,
        "min_spacing_hours": study.min_spacing_hours,
        "caps": {
            "max_probes_per_account": study.ethics.max_probes_per_account,
            "max_probes_per_account_per_day": study.ethics.max_probes_per_account_per_day,
        },
        "slots": [
            {
                "name": s.name,
                "days": [WEEKDAYS[d] for d in sorted(s.days)],
                "start": s.start.strftime("%H:%M"),
                "end": s.end.strftime("%H:%M"),
                "probes": None,
            }
            for s in study.slots
        ],
        "scripts": [
            {"id": s.id, "category": s.category, "texts": dict(s.texts), "probes": None}
            for s in study.scripts
        ],
        "channels": [c.name for c in study.channels],
        "countries": [
            {"code": c.code, "name": c.name, "timezone": c.timezone, "language": c.language}
            for c in study.countries
        ],
        "brands": list(brands.values()),
        "targets": [
            {
                "brand": t.brand,
                "country": t.country,
                "channel": t.channel,
                "handle": t.handle,
                "scope": t.scope.value,
                "service_hours": t.service_hours,
            }
            for t in study.targets
        ],
        **persona_design(study),
    }


def journal_design(
    con: duckdb.DuckDBPyConnection,
    study_dir: Path,
    name: str,
    window_hours: float,
    labels: pd.DataFrame,
) -> dict[str, Any]:
    """What the journal tells of the design when there is no study.toml (`labels`: the
    slots and scripts its probes name, publish_labels.sql)."""
    targets = con.execute(sql_text("publish_targets")).df()
    brands = sorted(set(targets["brand"]))
    names = read_names(study_dir)
    countries = sorted(set(targets["country"]))
    return {
        "known": False,
        "source": _source(study_dir),
        "name": name,
        "window_hours": window_hours,
        "start": None,
        "end": None,
        "probes_per_target": None,
        "min_spacing_hours": None,
        "caps": None,
        "slots": [
            {"name": r["name"], "days": None, "start": None, "end": None, "probes": r["probes"]}
            for r in _records(labels[labels["label"] == "slot"])
        ],
        "scripts": [
            {"id": r["name"], "category": "", "texts": {}, "probes": r["probes"]}
            for r in _records(labels[labels["label"] == "script"])
        ],
        "channels": sorted(set(targets["channel"])),
        "countries": [
            {"code": c, "name": COUNTRIES.get(c, c), "timezone": None, "language": None}
            for c in countries
        ],
        "brands": [
            {"brand": b, "name": names[b].name or b, "sector": names[b].sector}
            if b in names
            else {"brand": b, "name": b, "sector": ""}
            for b in brands
        ],
        "targets": _records(targets.drop(columns="probes")),
    }


def _count_labels(design: dict[str, Any], labels: pd.DataFrame) -> None:
    """Fill in how many of the journal's probes each slot and script has."""
    counts = {(r["label"], r["name"]): r["probes"] for r in _records(labels)}
    for slot in design["slots"]:
        slot["probes"] = counts.get(("slot", slot["name"]), 0)
    for script in design["scripts"]:
        script["probes"] = counts.get(("script", script["id"]), 0)


def _source(study_dir: Path) -> str:
    return read_meta_value(study_dir, "source") or "campaign"


def _strings(table: pa.Table) -> pa.Table:
    """Every column as text (an empty table's columns have no type of their own)."""
    return pa.Table.from_arrays(
        [c.cast(pa.string()) for c in table.columns], names=table.column_names
    )


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (NaN and NA as None, numpy ints as int)."""
    return [{str(k): _plain(v) for k, v in row.items()} for row in df.to_dict("records")]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DIGITS) + 0.0
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _json(value: Any) -> bytes:
    # Compact: with 1,000 brands metrics.json holds half a million pairwise tests.
    text = json.dumps(
        value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return text.encode("utf-8") + b"\n"


def _csv(df: pd.DataFrame) -> bytes:
    return csvout.frame_text(df).encode("utf-8")
