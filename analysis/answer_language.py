"""Whether brands answered in the language of the inquiry: per brand, country and both.

A probe's inquiry language is its country's in study.toml (the script text sent there).
Its first response (study.journal.answers: the reply the analysis times) has the language stored
with it (`replies.language`, written by `import`) or, where none is stored (replies
recorded by the runner), the one detected here from its text (analysis.language), each
distinct text once. The share in the inquiry's language and its Wilson 95% interval come
from group_metrics.sql itself (language_counts.sql feeds it); answers whose language could
not be determined are counted apart, and the other languages answered in are listed. A
journal without study.toml (an import, a TWCS corpus) has no inquiry language: no figures.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.language import UNDETERMINED, Detector, language_name
from analysis.metrics import Z95
from analysis.outcomes import outcomes_frame, sql_text
from study.journal.answers import matched_replies
from study.journal.tables import open_journal, stored_languages
from study.model import Study

SHARE_COLUMNS = ("probes", "answered", "response_rate", "response_rate_low", "response_rate_high")


def first_responses(con: duckdb.DuckDBPyConnection, study_dir: Path) -> pd.DataFrame:
    """probe_id, brand, country, text and stored language of the first response of each
    probe answered by the as-of time (study.journal.answers: the reply the analysis times)."""
    out = outcomes_frame(con)
    out = out[out["observed"]][["probe_id", "brand", "country"]]
    src = open_journal(study_dir)
    try:
        firsts = [r for r in matched_replies(src) if r.first_response]
        stored = stored_languages(src)
    finally:
        src.close()
    replies = pd.DataFrame(
        {
            "probe_id": [r.probe_id for r in firsts],
            "text": [r.reply_text for r in firsts],
            "language": [stored.get((r.channel, r.reply_id)) for r in firsts],
        },
        dtype=object,
    )
    return out.merge(replies, on="probe_id").reset_index(drop=True)


def answer_languages(
    con: duckdb.DuckDBPyConnection, study_dir: Path, study: Study
) -> dict[str, Any]:
    """{"brand": [...], "country": [...], "brand_country": [...]}: each group's answers with
    a determined language (`probes`), those in the inquiry's language (`answered`), the
    share with its interval, `undetermined`, and `others` (language -> answers); with
    "names" (code -> English name) and "expected" (country -> inquiry language)."""
    expected = {c.code: c.language for c in study.countries}
    answers = first_responses(con, study_dir)
    answers["expected"] = answers["country"].map(expected)
    detector = Detector(expected.values())
    missing = answers["language"].isna()
    found = detector.detect_all(answers.loc[missing, "text"])
    answers.loc[missing, "language"] = answers.loc[missing, "text"].map(found)
    table = answers[["probe_id", "brand", "country", "expected", "language"]]
    con.register("answer_languages", pa.Table.from_pandas(table, preserve_index=False))
    try:
        con.execute(sql_text("language_counts"))
        shares = con.execute(sql_text("group_metrics"), {"window_hours": 1.0, "z": Z95}).df()
    finally:
        con.unregister("answer_languages")
    result: dict[str, Any] = {}
    for grouping, keys in (("brand", ["brand"]), ("country", ["country"]),
                           ("brand_country", ["brand", "country"])):  # fmt: skip
        rows = []
        for r in shares[shares["grouping"] == grouping].to_dict("records"):
            mine = answers
            for k in keys:
                mine = mine[mine[k] == r[k]]
            others = Counter(
                lang for lang, exp in zip(mine["language"], mine["expected"], strict=True)
                if lang not in (exp, UNDETERMINED)
            )  # fmt: skip
            rows.append(
                {
                    **{k: str(r[k]) for k in keys},
                    **{c: _plain(r[c]) for c in SHARE_COLUMNS},
                    "undetermined": int((mine["language"] == UNDETERMINED).sum()),
                    "others": dict(sorted(others.items())),
                }
            )
        result[grouping] = rows
    codes = set(answers["language"]) | set(expected.values())
    result["names"] = {c: language_name(c) for c in sorted(codes) if c != UNDETERMINED}
    result["expected"] = dict(sorted(expected.items()))
    return result


def _plain(value: Any) -> int | float | None:
    if value is None or pd.isna(value):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    return round(float(value), 4) + 0.0
