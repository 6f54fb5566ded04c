"""An imported corpus (probes and replies in Parquet beside the journal) as every command sees
it: the same counts from each reader, and backups that hold the corpus files too."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.twcs import import_twcs
from replybench.cli import app
from study.errors import StudyError
from study.journal import backup as backups
from study.journal.status import read_status
from study.paths import journal_path
from tests.corpus_files import rewrite_corpus_file

SMALL = Path(__file__).resolve().parent / "fixtures" / "analysis" / "twcs_small.csv"
FILES = ["corpus-probes.parquet", "corpus-replies.parquet", "journal.sqlite"]


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def exported(d: Path, table: str) -> int:
    """How many rows `export` gives of `table`."""
    return len(json.loads(cli("export", str(d), table, "--format", "json")))


@pytest.fixture
def study(tmp_path: Path) -> Path:
    d = tmp_path / "twcs"
    import_twcs(SMALL, d)
    return d


def counts(d: Path, tmp_path: Path) -> dict[str, list[int]]:
    """Probes, replies and answered probes as each command tells them."""
    status = json.loads(cli("status", str(d), "--json"))
    sheet = tmp_path / f"sheet-{d.name}.csv"
    said = cli("rating-sheet", str(d), "--rater", "AB", "--out", str(sheet))
    rated = re.fullmatch(r"wrote .*: (\d+) answers to rate", said.splitlines()[0])
    assert rated is not None, said
    results = tmp_path / f"results-{d.name}.json"
    cli("analyze", str(d), "--json", str(results))
    analyzed = json.loads(results.read_text(encoding="utf-8"))
    return {
        "probes": [
            status["probes"],
            sum(status["states"].values()),
            exported(d, "probes"),
            analyzed["study"]["probes"],
        ],
        "replies": [status["replies"], exported(d, "replies")],
        "answered": [
            status["answered"],
            int(rated[1]),
            sum(b["answered"] for b in analyzed["groups"]["brand"]),
        ],
    }


def test_every_reader_sees_the_corpus(study: Path, tmp_path: Path) -> None:
    # `status` read the journal's own (empty) tables: 0 probes where the corpus holds 7.
    assert counts(study, tmp_path) == {"probes": [7] * 4, "replies": [4] * 2, "answered": [3] * 3}
    assert read_status(study).states == {"closed": 5, "sent": 2}


def test_a_corpus_backup_is_a_folder_that_restores_whole(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "backup"
    said = cli("backup", str(study), "--out", str(out))
    assert said.splitlines()[0] == (
        f"wrote {out}: the journal with 7 probes, and its corpus files "
        "corpus-probes.parquet, corpus-replies.parquet"
    )
    assert sorted(p.name for p in out.iterdir()) == FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup", "twcs"]  # no temporaries
    restored = tmp_path / "restored"
    shutil.copytree(out, journal_path(restored).parent)  # restored as `backup` says
    assert counts(restored, tmp_path) == counts(study, tmp_path)
    with pytest.raises(StudyError, match="already exists"):
        backups.backup(study, out)


def test_a_backup_that_fails_half_way_leaves_nothing(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied: list[str] = []

    def copy_then_fail(src: Path, dst: Path) -> None:
        if copied:
            raise OSError(28, "No space left on device")
        copied.append(src.name)
        shutil.copyfile(src, dst)

    monkeypatch.setattr(backups, "copy_file", copy_then_fail)
    out = tmp_path / "backup"
    result = CliRunner().invoke(app, ["backup", str(study), "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {out}: the backup could not be written (")
    assert copied == ["corpus-probes.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twcs"]
    assert read_status(study).probes == 7  # the study itself is untouched


def _rewrite(d: Path, table: str, keep: Callable[[str], bool]) -> None:
    """Rewrite `table`'s corpus file with only the columns `keep(name)` accepts, as an older
    (or other) version of replybench wrote it."""
    rewrite_corpus_file(d, table, lambda t: t.select([n for n in t.column_names if keep(n)]))


def test_a_corpus_from_before_the_persona_columns_reads_as_before(
    study: Path, tmp_path: Path
) -> None:
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    want = counts(study, tmp_path / "before")
    for table in ("probes", "replies"):
        _rewrite(study, table, lambda n: n not in ("persona", "followers"))
    assert counts(study, tmp_path / "after") == want


def test_a_corpus_file_without_a_needed_column_names_it_and_the_fix(study: Path) -> None:
    _rewrite(study, "replies", lambda n: n != "created_at")
    result = CliRunner().invoke(app, ["export", str(study), "replies"])
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert "\n" not in line
    assert "corpus-replies.parquet" in line and "created_at" in line and "import" in line


def test_a_corpus_file_with_its_columns_reordered_and_one_more_reads_the_same(
    study: Path, tmp_path: Path
) -> None:
    import pyarrow as pa

    def reordered(data: pa.Table) -> pa.Table:
        data = data.select(data.column_names[::-1])  # as a newer replybench might order them
        return data.append_column("added_later", pa.array(["x"] * data.num_rows))

    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    want = counts(study, tmp_path / "before")
    rows_before = json.loads(cli("export", str(study), "replies", "--format", "json"))
    for table in ("probes", "replies"):
        rewrite_corpus_file(study, table, reordered)
    assert counts(study, tmp_path / "after") == want
    assert json.loads(cli("export", str(study), "replies", "--format", "json")) == rows_before
