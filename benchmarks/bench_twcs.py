"""How long `import_twcs` takes on a file the size of the real TWCS corpus (2,811,774 rows).

Generates a synthetic TWCS-format file in a temporary folder with the real file's quirks (an
unnamed index column, `in_response_to_tweet_id` as floats, comma lists in
`response_tweet_id`, bare carriage returns in unquoted text, quoted multi-line text), times
the import and then `analysis.analyze` on the imported study (every group's statistics, the
pairwise log-rank tests and the bootstrap ranks of 100 brands), prints the numbers and
writes them to benchmarks/RESULTS.md between the `<!-- twcs -->` markers (the rest of that
file is left as it is).

    .venv/bin/python benchmarks/bench_twcs.py [ROWS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import analyze  # noqa: E402
from analysis.twcs import import_twcs  # noqa: E402
from benchmarks.common import machine, write_section  # noqa: E402

ROWS = 2_811_774
BRANDS = 100

# Conversations of four tweets: inquiry, the brand's response, a follow-up, a second
# response. Every fifth inquiry is answered by another brand (so it counts as unanswered);
# every 100,000th holds bare CRs; every 1,000th response is quoted over two lines; a quarter
# of the responses are "please DM us" redirects (about the real corpus's share).
LINES_SQL = """
WITH c AS (
    SELECT i, 4 * i + 1 AS id, 100000 + i % 50000 AS customer,
           'Brand' || (i % $brands) || 'Help' AS brand,
           'Brand' || ((i + 1) % $brands) || 'Help' AS other,
           TIMESTAMP '2017-10-01' + to_seconds(i * 7) AS asked,
           to_seconds(60 + (i * 7919) % 86400) AS delay
    FROM range($conversations) AS r(i)
), t AS (
    SELECT i, 0 AS k, id AS tweet_id, customer::VARCHAR AS author, 'True' AS inbound,
           asked AS ts,
           '@' || brand || CASE WHEN i % 100000 = 7 THEN chr(13) || chr(13) ELSE ' ' END
               || 'my order ' || i || ' has not arrived and nobody answers my emails' AS text,
           '"' || (id + 1) || ',' || (id + 3) || '"' AS responses, '' AS parent
    FROM c
    UNION ALL
    SELECT i, 1, id + 1, CASE WHEN i % 5 = 0 THEN other ELSE brand END, 'False',
           asked + delay,
           CASE WHEN i % 1000 = 3 THEN '"@' || customer || ' Sorry to hear that,' || chr(10)
                || 'please send us a DM with your order number."'
                WHEN i % 4 = 1 THEN '@' || customer || ' Please send us a DM with the details.'
                ELSE '@' || customer || ' We are sorry. Could you tell us your order number?'
           END,
           (id + 2)::VARCHAR, id || '.0'
    FROM c
    UNION ALL
    SELECT i, 2, id + 2, customer::VARCHAR, 'True', asked + delay * 2,
           '@' || brand || ' It is ' || (i * 31 % 99991), (id + 3)::VARCHAR, (id + 1) || '.0'
    FROM c
    UNION ALL
    SELECT i, 3, id + 3, brand, 'False', asked + delay * 3,
           '@' || customer || ' Thanks. It ships today.', '', (id + 2) || '.0'
    FROM c
)
SELECT concat_ws(',', (row_number() OVER (ORDER BY i, k) - 1)::VARCHAR, tweet_id::VARCHAR,
                 author, inbound, strftime(ts, '%a %b %d %H:%M:%S +0000 %Y'), text,
                 responses, parent) AS line
FROM t ORDER BY i, k
LIMIT $rows
"""


def generate(path: Path, rows: int) -> None:
    con = duckdb.connect()
    params = {"brands": BRANDS, "conversations": (rows + 3) // 4, "rows": rows}
    cur = con.execute(LINES_SQL, params)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",tweet_id,author_id,inbound,created_at,text,response_tweet_id,")
        f.write("in_response_to_tweet_id\n")
        while batch := cur.fetchmany(200_000):
            f.write("\n".join(line for (line,) in batch))
            f.write("\n")
    con.close()


def run(rows: int) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-twcs-") as tmp:
        csv_path = Path(tmp) / "twcs.csv"
        t0 = time.perf_counter()
        generate(csv_path, rows)
        t_gen = time.perf_counter() - t0
        size_mb = csv_path.stat().st_size / 1e6
        t0 = time.perf_counter()
        summary = import_twcs(csv_path, Path(tmp) / "study", window_hours=72)
        t_import = time.perf_counter() - t0
        journal_mb = summary.journal.stat().st_size / 1e6
        t0 = time.perf_counter()
        analyze(Path(tmp) / "study")
        t_analyze = time.perf_counter() - t0
    return "\n".join(
        [
            "## TWCS import (`benchmarks/bench_twcs.py`)",
            "",
            f"Synthetic TWCS-format file of {rows:,} rows ({size_mb:,.0f} MB; generated in "
            f"{t_gen:.1f} s), imported with `analysis.twcs.import_twcs`, then analysed with "
            f"`analysis.analyze` (as `replybench analyze` does), on {machine()}, DuckDB "
            f"{duckdb.__version__}.",
            "",
            "| rows | inquiries | responses | brands | import (s) | rows/s | journal (MB) "
            "| analyze (s) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {summary.tweets:,} | {summary.inquiries:,} | {summary.responses:,} | "
            f"{summary.brands} | {t_import:.1f} | {summary.tweets / t_import:,.0f} | "
            f"{journal_mb:,.0f} | {t_analyze:.1f} |",
            "",
            "analyze reads the journal back (about 4 s of it for 700,000 probes), computes "
            "every group's statistics, tests every pair of brands and ranks them in 1,000 "
            "bootstrap replicates (about 3 s; 12 s, and 17.8 s for the whole, while resamples "
            "were sorted rather than counted).",
        ]
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    section = run(rows)
    print(section)
    write_section("twcs", section)


if __name__ == "__main__":
    main()
