"""The journal as a file: opened only when whole, created whole or not at all, copied safely.

SQLite in WAL mode keeps recent transactions in `journal.sqlite-wal` until a checkpoint moves
them into the main file, so copying `journal.sqlite` alone (or truncating it) leaves a file
without tables or behind the truth. `connect` refuses such a file (`check_complete`);
`create_new` builds a new journal in a temporary file and links it into place, so a journal
file never exists half-built; `backup` copies one with SQLite's online backup API, consistent
even while the runner writes.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from study.errors import StudyError
from study.journal import errors
from study.journal.schema import LOOK_UP_OWN_POSTS, check_complete
from study.paths import existing_journal

# What a failed write says about the machine, not the program: said as an `Error:` line.
ENVIRONMENT = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to the whole journal at `path` (read-only: safe while `run` writes);
    StudyError when it is unreadable, incomplete, or read-only but opened for writing."""
    if not readonly and not _writable(path):
        raise errors.read_only(path)
    if readonly:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    else:
        con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        check_complete(con, path)  # first: setting WAL mode would write into the file
        if not readonly:
            con.execute("PRAGMA journal_mode=WAL")
            # NORMAL survives a kill -9 of this process (the OS keeps the WAL); FULL would
            # add an fsync per transaction against power loss, at a cost per poll.
            con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError as e:
        con.close()
        if environment_error(e):
            raise errors.not_written(path, e) from e
        raise errors.unreadable(path, e) from e
    except BaseException:
        con.close()
        raise
    con.row_factory = sqlite3.Row
    return con


def _writable(path: Path) -> bool:
    # The folder too: SQLite creates journal.sqlite-wal and -shm next to the journal.
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def create_new(path: Path, build: Callable[[sqlite3.Connection], None]) -> bool:
    """Create the journal at `path` with `build` (inside one transaction) in a temporary file,
    then link it into place; False, and nothing written, when `path` exists by then."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")  # what the runner and readers expect
            con.execute("BEGIN")
            build(con)
            con.execute("COMMIT")
        finally:
            con.close()  # the last connection: checkpoints the WAL into the file
        try:
            os.link(tmp, path)  # never over a journal another process made meanwhile
        except FileExistsError:
            return False
        return True
    except OSError as e:
        raise errors.not_written(path, e) from e
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


def environment_error(e: BaseException) -> bool:
    """Whether `e` is a write refused by the machine (disk full, quota, read-only, denied)."""
    if isinstance(e, OSError):
        return e.errno in ENVIRONMENT
    if isinstance(e, sqlite3.OperationalError):
        text = str(e)
        return any(s in text for s in ("disk is full", "readonly database", "disk I/O error"))
    return False


def backup(study_dir: Path, out: Path) -> int:
    """Copy the study's journal to `out` (a new file) consistently, even while `run` writes;
    how many probes it holds. The copy is marked so that a runner started on it, once it is
    restored, first looks the due probes up on the platforms: a backup is behind the journal
    it was taken from, and the probes sent since must not be sent again."""
    src = existing_journal(study_dir)
    if out.exists():
        raise StudyError(f"{out}: already exists; choose another --out, or move it away first")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        source = connect(src, readonly=True)
        try:
            copy = sqlite3.connect(tmp, isolation_level=None)
            try:
                source.backup(copy)  # SQLite's online backup API: a consistent snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                copy.execute(
                    "INSERT INTO meta(key, value) VALUES (?, 'yes') "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (LOOK_UP_OWN_POSTS,),
                )
                probes = int(copy.execute("SELECT count(*) FROM probes").fetchone()[0])
            finally:
                copy.close()
        finally:
            source.close()
        os.link(tmp, out)
    except (OSError, sqlite3.Error) as e:
        if environment_error(e) or isinstance(e, FileExistsError):
            raise StudyError(f"{out}: the backup could not be written ({e}); nothing was") from e
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return probes
