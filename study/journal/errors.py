"""What is said when a journal cannot be used: one wording for each problem, whoever meets it.

Each function returns the `StudyError` to raise; its message names the journal file, what is
wrong and what to do. Every command that meets the problem (status, export, analyze, report,
backup, cleanup, run, import, worksheet) raises the same one, so a researcher reads the same
line wherever it happens, and a test can assert it once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from study.errors import StudyError

BACKUP_HINT = (
    "restore it from a backup (replybench backup STUDY --out FILE makes one safely, even "
    "while the campaign runs)"
)


def no_journal(path: Path, study_dir: Path) -> StudyError:
    """A study folder whose campaign has not started: nothing has been recorded yet."""
    return StudyError(
        f"{path}: no journal yet; run the campaign first (replybench run {study_dir})"
    )


def no_folder(study_dir: Path) -> StudyError:
    """A study folder that does not exist (or is a file), asked for its journal."""
    what = "is not a folder" if study_dir.exists() else "does not exist"
    return StudyError(
        f"{study_dir}: {what}; check the path: give the study folder (the one that holds "
        "study.toml, or journal/ after an import)"
    )


def incomplete(path: Path, why: str) -> StudyError:
    """A journal file without its tables: truncated, or copied without its -wal file."""
    return StudyError(
        f"{path}: not a complete journal ({why}): the file was truncated, or copied "
        f"without its {path.name}-wal file. Nothing was done: starting afresh would plan "
        f"the campaign again and post its probes a second time. {BACKUP_HINT[0].upper()}"
        f"{BACKUP_HINT[1:]}, or copy it again together with its -wal file"
    )


def unreadable(path: Path, e: Exception) -> StudyError:
    """A file SQLite cannot read as a database (or whose tables cannot be read)."""
    return StudyError(f"{path}: not a readable journal ({e}); {BACKUP_HINT}")


def read_only(path: Path) -> StudyError:
    """A journal to be written that the user may not write (the file or its folder)."""
    return StudyError(
        f"{path}: the journal is read-only (the file or its folder cannot be written); "
        "give your user write access to both, then run the same command again"
    )


def not_written(path: Path, e: OSError | sqlite3.Error) -> StudyError:
    """A journal write the machine refused (disk full, read-only): nothing of it was kept."""
    return StudyError(
        f"{path}: the journal could not be written ({e}); free some disk space or fix the "
        "permissions, then run the same command again: what was recorded before is intact"
    )


def locked(path: Path, pid: int | None) -> StudyError:
    """A second runner for a study whose journal a runner holds (`study.journal.lock`)."""
    return StudyError(
        f"{path}: another runner (pid {pid or '?'}) is running this study; wait for it to "
        "finish, or stop it first"
    )


def imported(path: Path, source: str | None) -> StudyError:
    """A campaign asked to run on a journal of imported data (no plan of its own)."""
    return StudyError(
        f"{path}: this journal holds imported data (source = {source}); run the campaign in "
        "a new study folder"
    )


def other_plan(path: Path) -> StudyError:
    """A campaign whose study files no longer give the plan its journal was made from."""
    return StudyError(
        f"{path}: this journal was made from a different plan (study.toml, targets.csv or "
        "scripts.csv changed after the campaign started); restore the study files, or start "
        "a new study folder for the new design"
    )


def corpus_column_missing(path: Path, table: str, column: str) -> StudyError:
    """A corpus file without a column every row of its table must have."""
    return StudyError(
        f"{path}: the corpus file has no column {column}, which every row of {table} needs; "
        "it was not written by replybench's import. Nothing was read; import the corpus again "
        "into a new study folder (replybench import-twcs FILE --into STUDY)"
    )


def corpus_damaged(
    path: Path, journal: Path, table: str, rows: int, size: int, got: int | None
) -> StudyError:
    """A corpus file (`study.journal.corpus`) missing, or not the one the journal recorded."""
    what = "is missing" if got is None else f"is not the file written ({got} bytes)"
    return StudyError(
        f"{path}: the corpus file of the journal {journal} {what}: the journal keeps its "
        f"{table} there ({rows} rows, {size} bytes). Nothing was read; {BACKUP_HINT}, or "
        "import the corpus again into a new study folder"
    )
