"""Where things live inside a study folder: the contract between the packages, which pass
data to each other as files."""

from __future__ import annotations

from pathlib import Path

from study.journal.errors import no_folder, no_journal


def journal_path(study_dir: Path) -> Path:
    """The campaign journal (SQLite, WAL mode), written by `run`, read by everyone."""
    return study_dir / "journal" / "journal.sqlite"


def existing_journal(study_dir: Path) -> Path:
    """The study's journal for a reader; a `StudyError` when there is none, saying whether
    the folder itself is missing or only the journal."""
    path = journal_path(study_dir)
    if path.exists():
        return path
    if not study_dir.is_dir():
        raise no_folder(study_dir)
    raise no_journal(path, study_dir)


def sim_dir(study_dir: Path) -> Path:
    """The simulator's files: `ledger.jsonl`, `clock.json`, `port`."""
    return study_dir / "sim"


def ledger_path(study_dir: Path) -> Path:
    return sim_dir(study_dir) / "ledger.jsonl"
