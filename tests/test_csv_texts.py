"""Texts with bare carriage returns (TWCS replies have them), line breaks, quotes and commas
survive every CSV replybench writes: the export, the rating sheet and its import, the
worksheet's writer (study.csvout)."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analysis.export import export_table, read_table
from analysis.imports import import_csv
from analysis.ratings import SHEET_COLUMNS, import_ratings, rating_sheet
from study import csvout
from study.paths import journal_path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "analysis"
HARD = [
    "Sorry to hear that.\rPlease DM us your order number.",
    'We\'re on it,\r\n"really"\nand, soon.',
    "Thanks!\r",
]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """The hand-collected fixture, its replies' texts replaced by hard ones."""
    study = tmp_path / "study"
    import_csv(study, FIXTURES / "hand_collected.csv", 72)
    con = sqlite3.connect(journal_path(study))
    ids = [r[0] for r in con.execute("SELECT rowid FROM replies ORDER BY rowid")]
    assert len(ids) >= len(HARD)
    con.executemany(
        "UPDATE replies SET text = ? WHERE rowid = ?",
        list(zip(HARD, ids[: len(HARD)], strict=True)),
    )
    con.commit()
    con.close()
    return study


def test_the_writer_quotes_a_bare_carriage_return_and_keeps_plain_rows_as_before() -> None:
    buf = io.StringIO()
    csvout.writer(buf).writerows([["a", "b c"], ["x\ry", "1"]])
    assert buf.getvalue() == 'a,b c\n"x\ry",1\n'
    plain = pd.DataFrame({"t": ["one", "two, three"], "n": [1, 2]})
    assert csvout.frame_text(plain) == plain.to_csv(index=False, lineterminator="\n")


def test_an_export_reads_back_whole_in_python_pandas_and_duckdb(
    study: Path, tmp_path: Path
) -> None:
    out = tmp_path / "replies.csv"
    export_table(study, "replies", "csv", out)
    want = sorted(read_table(study, "replies").text)
    assert set(HARD) <= set(want)
    assert sorted(r["text"] for r in csv_rows(out)) == want
    assert sorted(pd.read_csv(out, keep_default_na=False).text) == want
    got = duckdb.sql(f"SELECT text FROM read_csv('{out}', all_varchar=true)").fetchall()
    assert sorted(t for (t,) in got) == want


def test_a_rating_sheet_of_hard_texts_is_filled_and_imported(study: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "ab.csv"
    n = rating_sheet(study, "AB", sheet)
    rows = csv_rows(sheet)
    assert len(rows) == n >= 1
    assert any("\r" in r["reply_text"] for r in rows)
    for row in rows:
        row["satisfaction"], row["answered"] = "4", "yes"
    filled = tmp_path / "ab-filled.csv"
    with filled.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=SHEET_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    assert import_ratings(study, filled) == n


TWCS_REPLY = b"@115804 We can help with that. What model is it?"
# Bare CRs, a quoted comma and quotes, a CRLF (an LF once imported), a leading '=' kept as is.
TWCS_HARD = b'"@115804 We can\rhelp, ""really"".\r\n=1+1\rWhat model?"'


def test_a_twcs_corpus_with_bare_carriage_returns_exports_rates_and_imports(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from analysis.twcs import import_twcs
    from replybench.cli import app

    data = (FIXTURES / "twcs_small.csv").read_bytes()
    assert data.count(TWCS_REPLY) == 1
    source = tmp_path / "twcs.csv"
    source.write_bytes(data.replace(TWCS_REPLY, TWCS_HARD))
    d = tmp_path / "twcs"
    import_twcs(source, d)

    def cli(*args: str) -> None:
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.stderr

    out, sheet, filled = tmp_path / "replies.csv", tmp_path / "ab.csv", tmp_path / "filled.csv"
    cli("export", str(d), "replies", "--out", str(out))
    texts = [r["text"] for r in csv_rows(out)]
    assert '@115804 We can\rhelp, "really".\n=1+1\rWhat model?' in texts
    assert pd.read_csv(out, keep_default_na=False).text.tolist() == texts
    cli("rating-sheet", str(d), "--rater", "AB", "--out", str(sheet))
    rows = csv_rows(sheet)
    assert pd.read_csv(sheet, dtype=str, keep_default_na=False).to_dict("records") == rows
    assert '@[account] We can\rhelp, "really".\n=1+1\rWhat model?' in [
        r["reply_text"] for r in rows
    ]
    for row in rows:
        row["satisfaction"], row["answered"] = "4", "yes"
    with filled.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=SHEET_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    cli("import-ratings", str(d), str(filled))
    con = sqlite3.connect(journal_path(d))
    assert con.execute("SELECT count(*) FROM ratings").fetchone() == (len(rows),) == (3,)
    con.close()
