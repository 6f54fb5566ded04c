"""An imported corpus's rows in Parquet beside the journal: written whole before the journal
names them, refused when not as written, and read the same by every reader."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from analysis.analyze import analyze
from analysis.export import read_table
from analysis.outcomes import _PANDAS_MAX, _PANDAS_MIN, outcomes
from analysis.twcs import import_twcs
from study.errors import StudyError
from study.journal import corpus
from study.journal.tables import analysis_tables, open_journal
from study.paths import journal_path
from study.timeutil import iso
from tests.corpus_files import rewrite_corpus_file

SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "analysis" / "twcs_small.csv"


def test_a_corpus_is_kept_in_parquet_and_read_alike_by_sql_and_arrow(tmp_path: Path) -> None:
    study = tmp_path / "corpus"
    import_twcs(SMALL, study)
    folder = journal_path(study).parent
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["corpus-probes.parquet", "corpus-replies.parquet", "journal.sqlite"]
    con = open_journal(study)
    try:
        sql = con.execute("SELECT probe_id, sent_at FROM probes ORDER BY rowid").fetchall()
        own = con.execute("SELECT count(*) FROM journal.probes").fetchone()
    finally:
        con.close()
    assert own == (0,)  # the journal's own table stays empty
    tables = analysis_tables(study, ["probe_id", "sent_at"], ["probe_id"], ["channel"])
    # the analysis gets the times as naive UTC timestamps, SQL as the journal's text
    typed = tables.probes.to_pydict()
    assert [(p, iso(t.replace(tzinfo=UTC))) for p, t in zip(*typed.values(), strict=True)] == sql
    assert len(sql) == 7
    assert tables.replies.num_rows == 4
    assert sorted(read_table(study, "probes").probe_id) == sorted(p for p, _ in sql)


@pytest.mark.parametrize("damage", ["missing", "truncated", "replaced"])
def test_a_corpus_file_not_as_written_is_refused(tmp_path: Path, damage: str) -> None:
    study = tmp_path / "corpus"
    import_twcs(SMALL, study)
    file = journal_path(study).parent / "corpus-replies.parquet"
    data = file.read_bytes()
    if damage == "missing":
        file.unlink()
    elif damage == "truncated":
        file.write_bytes(data[: len(data) // 2])
    else:  # same size, other bytes: no Parquet footer
        file.write_bytes(b"x" * len(data))
    for read in (analyze, open_journal):
        with pytest.raises(StudyError, match="corpus-replies.parquet: the corpus file of"):
            read(study)


def test_a_failed_corpus_write_leaves_no_journal_and_no_file(tmp_path: Path) -> None:
    study = tmp_path / "corpus"
    schema = pa.schema([("probe_id", pa.string())])

    def failing() -> pa.RecordBatchReader:
        def batches() -> Iterator[pa.RecordBatch]:
            yield pa.record_batch([pa.array(["p1"])], schema=schema)
            raise OSError("disk full")

        return pa.RecordBatchReader.from_batches(schema, batches())

    def good() -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(
            schema, [pa.record_batch([pa.array(["p1"])], schema=schema)]
        )

    for tables in ({"probes": failing}, {"probes": good, "replies": failing}):
        with pytest.raises(OSError, match="disk full"):
            corpus.create(study, tables, {"source": "twcs"}, ("2017-01-01T00:00:00.000Z", "x"))
        assert list(journal_path(study).parent.iterdir()) == []


def test_the_pandas_time_bounds_hold_ordinary_times() -> None:
    # Casting pandas' nanosecond bounds to microseconds wrapped around: every journal's
    # times then took the slow path through pandas.
    assert _PANDAS_MIN < np.datetime64("1970-01-01", "us") < _PANDAS_MAX


def test_times_are_stored_as_timestamps_and_a_file_of_text_times_reads_the_same(
    tmp_path: Path,
) -> None:
    """The corpus files keep the journal's times as UTC timestamps to the millisecond; every
    reader gets the journal's text back, and a file written before (times as text) reads
    the same through every reader."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    study = tmp_path / "corpus"
    import_twcs(SMALL, study)
    folder = journal_path(study).parent
    for table, times in corpus.TIMES.items():
        stored = pq.read_schema(folder / f"corpus-{table}.parquet")
        assert {stored.field(t).type for t in times} == {pa.timestamp("ms", "UTC")}

    def everything() -> tuple[object, ...]:
        con = open_journal(study)
        try:
            rows = [
                con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in corpus.TIMES
            ]
        finally:
            con.close()
        return (rows, analyze(study), outcomes(study).to_dict("records"))

    new = everything()
    assert new[0][0][0][corpus.schema("probes").names.index("sent_at")].endswith(".000Z")

    def as_text(data: pa.Table) -> pa.Table:  # the times as an older replybench wrote them
        for t in corpus.TIMES[table]:
            i = data.column_names.index(t)
            data = data.set_column(i, t, pc.strftime(data.column(i), format="%Y-%m-%dT%H:%M:%SZ"))
        return data

    for table in corpus.TIMES:
        rewrite_corpus_file(study, table, as_text)
    assert pq.read_schema(folder / "corpus-probes.parquet").field("sent_at").type == pa.string()
    assert everything() == new
