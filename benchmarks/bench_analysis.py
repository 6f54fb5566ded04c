"""How long every group's response statistics take for 10 million probes.

Synthetic outcomes are generated in DuckDB directly (not via SQLite): 50 brands x 20
countries x 3 channels x 3 slots x 2 scopes, each brand with its own response propensity
(20-90%) and speed (exponential, mean 1-30 hours), durations at 1-second resolution, a
72-hour window, and 5% of the probes still open at the as-of time (censored early). The
benchmark times `group_metrics` (all 7 groupings, 1,079 groups) on them, `create_km_steps`
(every curve kept whole, as charts and tests use them), and the outcomes step itself on
synthetic `probes` and `replies` tables, and the time to the first substantive answer
(`with_answers`, brands and overall only; a fifth of the answered probes get it 2 hours
after a redirect). For the
ratio it times a pandas + lifelines per-group implementation of the same statistics on
subsamples (lifelines is far too slow for the full size), fits time = a + b x probes to the
two subsample sizes and extrapolates to the full size; both are checked to agree on the
subsample. Prints the numbers and writes the `analysis` section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_analysis.py [PROBES]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.metrics import GROUPINGS, create_km_steps, group_metrics, with_answers  # noqa: E402
from analysis.outcomes import MEMORY_LIMIT, create_outcomes, duckdb_config  # noqa: E402
from benchmarks.common import machine, write_section  # noqa: E402

PROBES = 10_000_000
SUBSAMPLES = (250_000, 1_000_000)
RUNS = 3
WINDOW = 72.0

# Hashes of the probe number stand in for random numbers: DuckDB's random() is not
# reproducible across threads. One hash's digits pick the group, others the uniforms u.
OUTCOMES_SQL = """
CREATE OR REPLACE TABLE outcomes AS
WITH u AS (
    SELECT i, hash(i) AS h,
           hash(16 * i + 1) / 18446744073709551616.0 AS u1,
           hash(16 * i + 2) / 18446744073709551616.0 AS u2,
           hash(16 * i + 3) / 18446744073709551616.0 AS u4
    FROM range($probes) AS r(i)
), k AS (
    SELECT *, h % 50 AS b, (h // 50) % 20 AS c, (h // 1000) % 3 AS ch, (h // 3000) % 3 AS sl,
           (h // 9000) % 100 AS sc, (h // 900000) % 10 AS ack
    FROM u
), d AS (
    SELECT *,
           'brand' || lpad(b::VARCHAR, 2, '0') AS brand,
           0.2 + 0.7 * ((b * 37) % 50) / 49.0 AS propensity,
           1 + 29 * ((b * 11) % 50) / 49.0 AS mean_hours,
           CASE WHEN i % 20 = 0 THEN round(u4 * $window * 3600) / 3600 ELSE $window END AS cap
    FROM k
), t AS (
    SELECT *, CASE WHEN u1 < propensity
                   THEN round(-ln(1 - u2) * mean_hours * 3600) / 3600 END AS response
    FROM d
)
SELECT 'p' || i AS probe_id, brand, 'C' || lpad(c::VARCHAR, 2, '0') AS country,
       ['x', 'email', 'mastodon'][(ch + 1)::BIGINT] AS channel,
       ['business', 'evening', 'weekend'][(sl + 1)::BIGINT] AS slot,
       CASE WHEN sc < 85 THEN 'local' ELSE 'global' END AS scope,
       coalesce(least(response, cap), cap) AS duration_hours,
       coalesce(response <= cap, false) AS observed,
       CASE WHEN ack = 0 THEN TIMESTAMP '2026-03-02 09:00:00' END AS auto_ack_at,
       NOT coalesce(response <= cap, false) AND cap < $window AS still_open,
       coalesce(least(answer, cap), cap) AS answer_hours,
       coalesce(answer <= cap, false) AS answer_observed
FROM (SELECT *, CASE WHEN sc % 5 = 0 THEN response + 2 ELSE response END AS answer FROM t) AS t
"""

# The same probes as journal tables: sent over 60 days; answered by the brand's handle.
JOURNAL_SQL = [
    """
CREATE OR REPLACE TABLE probes AS
SELECT probe_id, brand, country, channel, brand || '_' || lower(country) AS handle, scope,
       'delivery' AS script, slot, 1 AS round, 'sent' AS state, NULL::VARCHAR AS persona,
       TIMESTAMP '2026-03-02' + to_seconds((hash(probe_id) % 5184000)::BIGINT) AS sent_at
FROM outcomes
""",
    """
CREATE OR REPLACE TABLE replies AS
SELECT p.probe_id, p.handle AS author, 'public_reply' AS kind,
       p.sent_at + to_microseconds(round(o.duration_hours * 3600e6)::BIGINT) AS created_at
FROM probes AS p JOIN outcomes AS o USING (probe_id)
WHERE o.observed
""",
]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all of this process's threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def duckdb_metrics(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return group_metrics(con, window_hours=WINDOW)


def lifelines_metrics(df: pd.DataFrame) -> pd.DataFrame:
    """The same statistics group by group with pandas, lifelines and statsmodels."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times, restricted_mean_survival_time
    from statsmodels.stats.proportion import proportion_confint

    rows: list[dict[str, Any]] = []
    for name, columns in GROUPINGS:
        parts = [((), df)] if not columns else df.groupby(list(columns), sort=True)
        for key, g in parts:
            kmf = KaplanMeierFitter().fit(g["duration_hours"], g["observed"])
            answered = int(g["observed"].sum())
            low, high = proportion_confint(answered, len(g), method="wilson")
            ci = median_survival_times(kmf.confidence_interval_)
            s = kmf.survival_function_at_times([1, 12, 24]).to_numpy()
            rows.append(
                {
                    "grouping": name,
                    "key": "\x1f".join(str(k) for k in (key if isinstance(key, tuple) else (key,))),
                    "probes": len(g),
                    "answered": answered,
                    "auto_acks": int(g["auto_ack_at"].notna().sum()),
                    "response_rate": answered / len(g),
                    "response_rate_low": low,
                    "response_rate_high": high,
                    "median_hours": kmf.median_survival_time_,
                    "median_hours_low": ci.iloc[0, 0],
                    "median_hours_high": ci.iloc[0, 1],
                    "answered_within_1h": 1 - s[0],
                    "answered_within_12h": 1 - s[1],
                    "answered_within_24h": 1 - s[2],
                    "restricted_mean_hours": restricted_mean_survival_time(kmf, t=WINDOW),
                }
            )
    return pd.DataFrame(rows)


def agreement(mine: pd.DataFrame, theirs: pd.DataFrame) -> float:
    """Largest absolute difference in restricted mean hours and the within-X shares."""
    key = mine[["brand", "country", "channel", "slot", "scope"]].apply(
        lambda r: "\x1f".join(x for x in r if isinstance(x, str)), axis=1
    )
    mine = mine.assign(key=key).set_index(["grouping", "key"]).sort_index()
    theirs = theirs.set_index(["grouping", "key"]).sort_index()
    cols = ["restricted_mean_hours", "answered_within_1h", "answered_within_24h"]
    return float((mine[cols] - theirs[cols]).abs().to_numpy().max())


def run(probes: int) -> str:
    con = duckdb.connect(config=duckdb_config())  # capped and spilling, as every analysis
    gen = timed(lambda: con.execute(OUTCOMES_SQL, {"probes": probes, "window": WINDOW}))
    answered, opened = con.execute(
        "SELECT avg(observed::INT), avg((NOT observed AND duration_hours < $window)::INT)"
        " FROM outcomes",
        {"window": WINDOW},
    ).fetchone() or (0, 0)
    print(f"generated {probes:,} outcomes in {gen:.1f} s", flush=True)
    load = os.getloadavg()[0]
    times, cpus = [], []
    for _ in range(RUNS):
        wall, cpu = timed_cpu(lambda: duckdb_metrics(con))
        times.append(wall)
        cpus.append(cpu)
        print(f"  all groups' metrics: {wall:.2f} s ({cpu:.2f} s CPU)", flush=True)
    table = group_metrics(con, window_hours=WINDOW)
    groups = len(table)
    answers_time, answers_cpu = timed_cpu(lambda: with_answers(con, table, window_hours=WINDOW))
    print(f"  time to the first substantive answer (with_answers): {answers_time:.2f} s")
    steps_time, steps_cpu = timed_cpu(lambda: create_km_steps(con))
    steps = con.execute("SELECT count(*) FROM km_steps").fetchone() or (0,)
    print(f"  every curve kept whole (create_km_steps): {steps_time:.2f} s", flush=True)
    for name in ("km_steps", "km_sample", "km_summary", "answer_summary"):  # timed apart
        con.execute(f"DROP TABLE IF EXISTS {name}")
    for sql in JOURNAL_SQL:
        con.execute(sql)
    con.execute("ALTER TABLE outcomes RENAME TO synthetic")
    outcomes_time, outcomes_cpu = timed_cpu(
        lambda: create_outcomes(con, as_of=datetime(2026, 6, 1, tzinfo=UTC), window_hours=WINDOW)
    )
    print(f"  outcomes from probes and replies: {outcomes_time:.2f} s", flush=True)
    con.execute("DROP TABLE outcomes")
    con.execute("ALTER TABLE synthetic RENAME TO outcomes")

    sub_rows = []
    for n in SUBSAMPLES:
        sub = duckdb.connect(config=duckdb_config())
        sample = con.execute(
            "SELECT * FROM outcomes WHERE hash(probe_id) % $every = 0", {"every": probes // n}
        ).df()
        sub.register("sample", sample)
        sub.execute("CREATE TABLE outcomes AS SELECT * FROM sample")
        mine = duckdb_metrics(sub)
        ours = min(timed(lambda: duckdb_metrics(sub)) for _ in range(RUNS))  # noqa: B023
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            theirs = lifelines_metrics(sample)
            lifelines_time = time.perf_counter() - start
        diff = agreement(mine, theirs)
        sub_rows.append((len(sample), ours, lifelines_time, diff))
        print(
            f"  subsample {len(sample):,}: DuckDB {ours:.2f} s, pandas + lifelines "
            f"{lifelines_time:.1f} s (largest difference {diff:.1e})",
            flush=True,
        )
    (n1, _, l1, _), (n2, _, l2, _) = sub_rows
    slope = (l2 - l1) / (n2 - n1)
    extrapolated = l1 + slope * (probes - n1)
    best, median = min(times), statistics.median(times)
    lines = [
        "## Every group's response statistics (`benchmarks/bench_analysis.py`)",
        "",
        f"{probes:,} synthetic probes generated in DuckDB ({gen:.1f} s): 50 brands x 20 "
        f"countries x 3 channels x 3 slots x 2 scopes, {answered:.0%} answered within the "
        f"72-hour window, {opened:.0%} still open at the as-of time; durations at 1-second "
        f"resolution. On {machine()}, DuckDB {duckdb.__version__}, its memory capped at "
        f"{MEMORY_LIMIT} (spilling to a temporary folder) as in every analysis "
        f"(`analysis.outcomes.duckdb_config`); load average {load:.1f} when the timing "
        "started (other work on the machine inflates wall time; CPU time counts both DuckDB "
        "threads).",
        "",
        "| step | probes | groups | time (s) | CPU (s) |",
        "|---|---:|---:|---:|---:|",
        f"| all groups' metrics (`group_metrics`), best of {RUNS} (median); target 5 s "
        f"| {probes:,} | {groups:,} | {best:.2f} ({median:.2f}) | {min(cpus):.2f} |",
        f"| time to the first substantive answer, overall and brands (`with_answers`) "
        f"| {probes:,} | 51 | {answers_time:.2f} | {answers_cpu:.2f} |",
        f"| every curve kept whole (`create_km_steps`, for charts and tests) | {probes:,} "
        f"| {groups:,} | {steps_time:.2f} | {steps_cpu:.2f} |",
        f"| outcomes from `probes` and `replies` (`create_outcomes`) | {probes:,} | | "
        f"{outcomes_time:.2f} | {outcomes_cpu:.2f} |",
        "",
        f"The curves hold {steps[0]:,} steps (one per distinct response time per group). "
        "One pass over the outcomes counts the finest cells (brand x country x channel x "
        "slot x scope: 18,000 here) and gives each its group in all seven groupings; a "
        "second pass gives each answered or early-censored probe (5.6 million; the rest "
        "are censored at the window and only counted) those seven group numbers as "
        "4-byte integers, which sort faster than text or BIGINTs. Then, per grouping, "
        "one partitioned sort: of the distinct (group, duration) cells a hash "
        "aggregation leaves, where groups x distinct durations come to at most a quarter "
        "of the probes (here overall, channel, slot, scope: 0.26-0.69 million cells), "
        "with the censoring curve met by an equi-join; elsewhere (brand, country, "
        "brand_country, where 1-second durations hardly tie) of the probes themselves, "
        "with an ASOF join. Each grouping's curves are summed up into its groups' "
        "statistics as they are made, never stored whole, and each band is only worked "
        "out on the side of S = 0.5 where it can cross. Every step is exact (no binning "
        "of times); both ways give the same rows. Earlier versions on the same data: "
        "9.2-11.6 s (one sort of every probe per grouping, text keys), then 7.05 s "
        "(cells where durations tie), 13.6 s of CPU.",
        "",
        "pandas + lifelines + statsmodels, one `KaplanMeierFitter` per group, on subsamples:",
        "",
        "| probes | DuckDB (s) | pandas + lifelines (s) | ratio | largest difference |",
        "|---:|---:|---:|---:|---:|",
        *[
            f"| {n:,} | {ours:.2f} | {theirs:.1f} | {theirs / ours:.0f}x | {diff:.1e} |"
            for n, ours, theirs, diff in sub_rows
        ],
        f"| {probes:,} | {best:.2f} | ~{extrapolated:,.0f} (extrapolated) | "
        f"~{extrapolated / best:.0f}x | |",
        "",
        "The extrapolation fits time = a + b x probes to the two subsamples (lifelines' per-"
        "group cost is close to linear at these sizes); it was not run at full size.",
    ]
    return "\n".join(lines)


def main() -> None:
    probes = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else PROBES
    np.seterr(all="ignore")
    section = run(probes)
    print(section)
    write_section("analysis", section)


if __name__ == "__main__":
    main()
