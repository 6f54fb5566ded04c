"""Where things live inside a study folder: the contract between the packages, which pass
data to each other as files."""

from __future__ import annotations

from pathlib import Path


def journal_path(study_dir: Path) -> Path:
    """The campaign journal (SQLite, WAL mode), written by `run`, read by everyone."""
    return study_dir / "journal" / "journal.sqlite"


def sim_dir(study_dir: Path) -> Path:
    """The simulator's files: `ledger.jsonl`, `clock.json`, `port`."""
    return study_dir / "sim"


def ledger_path(study_dir: Path) -> Path:
    return sim_dir(study_dir) / "ledger.jsonl"
