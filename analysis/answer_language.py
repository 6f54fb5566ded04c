"""Whether brands answered in the language of the inquiry: per brand, country and both.

A probe's inquiry language is its country's in study.toml (the script text sent there).
Its first response's language is the one stored with the reply (`replies.language`,
written by `import`) or, where none is stored (replies recorded by the runner, imported
corpora), detected here from the stored text (analysis.language), each distinct text once;
only first responses are looked at, so a corpus of millions costs no more than its
answers. The share in the inquiry's language and its Wilson 95% interval come from
group_metrics.sql itself (language_counts.sql feeds it); answers whose language could not
be determined are counted apart, and the other languages answered in are listed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.journal_tables import open_journal
from analysis.language import UNDETERMINED, Detector, language_name
from analysis.metrics import Z95
from analysis.outcomes import outcomes_frame, sql_text
from study.model import Study

RESPONSE_KINDS = ("public_reply", "direct_message", "redirect")
SHARE_COLUMNS = ("probes", "answered", "response_rate", "response_rate_low", "response_rate_high")


def first_responses(con: duckdb.DuckDBPyConnection, study_dir: Path) -> pd.DataFrame:
    """probe_id, brand, country, text and stored language of each answered probe's first
    response (the reply outcomes.sql took: its kind, at its time; ties by reply_id)."""
    out = outcomes_frame(con)
    out = out[out["observed"]][["probe_id", "brand", "country", "sent_at",
                                "first_response_at", "first_response_kind"]]  # fmt: skip
    src = open_journal(study_dir)
    try:
        have = {str(r[1]) for r in src.execute("PRAGMA table_info(replies)")}
        # A journal written before replies had a language (opened read-only: not migrated).
        language = "language" if "language" in have else "NULL"
        rows = src.execute(
            f"SELECT probe_id, reply_id, kind, created_at, text, {language} FROM replies"
            " WHERE probe_id IS NOT NULL AND kind IN (?, ?, ?)",
            RESPONSE_KINDS,
        ).fetchall()
    finally:
        src.close()
    replies = pd.DataFrame.from_records(
        rows, columns=["probe_id", "reply_id", "kind", "created_at", "text", "language"]
    )
    replies["created_at"] = pd.to_datetime(replies["created_at"], utc=True, format="ISO8601")
    both = out.merge(replies, on="probe_id")
    at = both[["created_at", "sent_at"]].max(axis=1)
    both = both[(both["kind"] == both["first_response_kind"]) & (at == both["first_response_at"])]
    both = both.sort_values(["probe_id", "reply_id"]).drop_duplicates("probe_id")
    return both[["probe_id", "brand", "country", "text", "language"]].reset_index(drop=True)


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
