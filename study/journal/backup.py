"""Backups of a study's journal, whole: the journal file, and an imported corpus's files.

The journal is copied with SQLite's online backup API, consistent even while `run` writes
(copying `journal.sqlite` by hand misses what is still in `journal.sqlite-wal`). A journal
holding an imported corpus (`study.journal.corpus`) names Parquet files beside it: its backup
is a folder holding the journal and those files, each checked against the rows and bytes the
journal records, built in a temporary folder beside it and renamed into place, so a backup
that fails half-way leaves nothing. A backup killed outright (SIGKILL, power loss) cannot tidy
up: its temporary, named with its process id, is removed by the next backup to the same place
once that process is gone. Restoring one: that folder becomes the study's
`journal/` folder.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from study.errors import StudyError
from study.journal import corpus
from study.journal.file import connect, environment_error
from study.journal.schema import LOOK_UP_OWN_POSTS
from study.journal.store import put_meta
from study.paths import existing_journal


@dataclass(frozen=True)
class Backup:
    probes: int  # the probes it holds (an imported corpus's included)
    corpus: tuple[str, ...]  # the corpus files beside the journal in the backup folder, if any


def copy_file(src: Path, dst: Path) -> None:
    """Copy `src` to `dst` and flush it to the disk."""
    shutil.copyfile(src, dst)
    with dst.open("rb+") as f:
        os.fsync(f.fileno())


def backup(study_dir: Path, out: Path) -> Backup:
    """Copy the study's journal consistently, even while `run` writes: to `out` (a new file),
    or, when the journal holds an imported corpus, to the new folder `out` with the journal
    and its corpus files. The copy is marked so that a runner started on it, once it is
    restored, first looks the due probes up on the platforms: a backup is behind the journal
    it was taken from, and the probes sent since must not be sent again."""
    src = existing_journal(study_dir)
    if out.exists():
        raise StudyError(f"{out}: already exists; choose another --out, or move it away first")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(out)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp", dir=out.parent)
    )
    try:
        journal = tmp / src.name
        probes = _snapshot(src, journal)
        copy = connect(journal, readonly=True)
        try:
            files = corpus.corpus_files(copy, src)  # those it names, checked at the source
            if files is None:
                os.link(journal, out)  # never over a file made meanwhile
                return Backup(probes, ())
            for f in files.values():
                copy_file(f.path, tmp / f.path.name)
            copied = corpus.corpus_files(copy, journal)  # the copies, checked as a reader would
        finally:
            copy.close()
        assert copied is not None
        os.rename(tmp, out)
        names = tuple(sorted(f.path.name for f in copied.values()))
        return Backup(probes + (copied["probes"].rows if "probes" in copied else 0), names)
    except (OSError, sqlite3.Error) as e:
        if environment_error(e) or isinstance(e, FileExistsError):
            raise StudyError(f"{out}: the backup could not be written ({e}); nothing was") from e
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale(out: Path) -> None:
    """Remove the temporaries that backups to `out` killed outright left beside it: only
    names this module makes (`.OUT.PID.RANDOM.tmp`), only when process PID is gone."""
    head = f".{out.name}."
    for path in out.parent.glob(f"{glob.escape(head)}*.tmp"):
        pid = path.name[len(head) :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _snapshot(src: Path, dest: Path) -> int:
    """Copy the journal at `src` into the new file `dest` (one self-contained file, marked to
    look its probes up first); the probes of its own table."""
    source = connect(src, readonly=True)
    try:
        copy = sqlite3.connect(dest, isolation_level=None)
        try:
            source.backup(copy)  # SQLite's online backup API: a consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            put_meta(copy, LOOK_UP_OWN_POSTS, "yes")
            return int(copy.execute("SELECT count(*) FROM probes").fetchone()[0])
        finally:
            copy.close()
    finally:
        source.close()
