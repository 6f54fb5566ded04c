"""The time to the first substantive answer (a public reply or DM, neither a redirect nor an
auto-acknowledgement) and the probes still open, beside the time to the first response."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import metrics, outcomes
from analysis.metrics import ANSWER_GROUPINGS, GROUPINGS, group_metrics, with_answers
from tests.analysis.journals import T0, P, R, hours, outcomes_db, write_journal
from tests.analysis.test_metrics import lifelines_row, scenario

ANSWER = ("answer_median_hours", "answer_median_hours_low", "answer_median_hours_high",
          "answer_restricted_mean_hours")  # fmt: skip


def test_outcomes_time_the_first_substantive_answer_and_mark_open_probes(tmp_path: Path) -> None:
    probes = [P("p1"), P("p2"), P("p3"), P("p4", sent_at=T0 + hours(90))]
    replies = [
        R("p1", "kaito_de", T0 + hours(1), "redirect"),  # the response, not an answer
        R("p1", "maria_k_83", T0 + hours(2), "direct_message"),  # a stranger
        R("p1", "kaito_de", T0 + hours(3), "direct_message"),  # the substantive answer
        R("p2", "kaito_de", T0 + hours(1), "auto_ack"),
        R("p2", "kaito_de", T0 + hours(2), "redirect"),  # answered, never substantively
    ]
    write_journal(tmp_path, probes, replies, last_observation=T0 + hours(100))
    df = outcomes(tmp_path).set_index("probe_id")
    got = df[["duration_hours", "observed", "answer_hours", "answer_observed", "still_open"]]
    assert got.to_dict("index") == {
        "p1": dict(zip(got.columns, [1.0, True, 3.0, True, False], strict=True)),
        "p2": dict(zip(got.columns, [2.0, True, 72.0, False, False], strict=True)),
        "p3": dict(zip(got.columns, [72.0, False, 72.0, False, False], strict=True)),
        "p4": dict(zip(got.columns, [10.0, False, 10.0, False, True], strict=True)),  # open
    }
    assert df.loc["p1", "first_answer_at"] == pd.Timestamp(T0 + hours(3))
    m = metrics(tmp_path)
    overall = m[m["grouping"] == "overall"].iloc[0]
    assert (overall["answered"], overall["open"]) == (2, 1)
    assert overall["answer_restricted_mean_hours"] == pytest.approx(
        lifelines_row(
            pd.DataFrame(
                {
                    "duration_hours": [3.0, 72, 72, 10],
                    "observed": [True, False, False, False],
                    "auto_ack": [False] * 4,
                }  # fmt: skip
            ),
            72,
        )["restricted_mean_hours"]
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_answer_figures_agree_with_lifelines(seed: int) -> None:
    rows, window = scenario(seed)
    rng = np.random.default_rng(500 + seed)
    for r in rows:  # a third of the answered got a redirect first, the answer later or never
        later = float(r["duration_hours"]) + rng.exponential(10)  # type: ignore[arg-type]
        cap = window if not r["observed"] else min(window, later + rng.uniform(-5, 30))
        r["answer_hours"], r["answer_observed"] = r["duration_hours"], r["observed"]
        if r["observed"] and rng.random() < 0.35:
            r["answer_hours"], r["answer_observed"] = min(later, cap), bool(later <= cap)
    con = outcomes_db(rows)
    got = with_answers(con, group_metrics(con, window_hours=window), window_hours=window)
    data = pd.DataFrame(rows)
    timed = data.assign(duration_hours=data["answer_hours"], observed=data["answer_observed"])
    for name, columns in GROUPINGS:
        mine = got[got["grouping"] == name]
        if name not in ANSWER_GROUPINGS:
            assert mine[list(ANSWER)].isna().all().all(), name
            continue
        parts = [("", timed)] if not columns else list(timed.groupby(list(columns)))
        for _, sample in parts:
            row = mine if not columns else mine[mine["brand"] == sample["brand"].iloc[0]]
            want = lifelines_row(sample, window)
            for metric in ANSWER:
                have = row[metric].iloc[0]
                expected = want[metric.removeprefix("answer_")]
                if expected is None:
                    assert pd.isna(have), (name, metric)
                else:
                    assert have == pytest.approx(expected, rel=1e-9, abs=1e-12), (name, metric)
