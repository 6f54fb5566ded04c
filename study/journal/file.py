"""The journal as a file: opened only when whole, created whole or not at all, copied safely.

SQLite in WAL mode keeps recent transactions in `journal.sqlite-wal` until a checkpoint moves
them into the main file, so copying `journal.sqlite` alone (or truncating it) leaves a file
without tables or behind the truth. `connect` refuses such a file (`check_complete`);
`create_new` builds a new journal in a temporary file and links it into place, so a journal
file never exists half-built; `study.journal.backup` copies one with SQLite's online backup
API, consistent even while the runner writes.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from study.journal import errors
from study.journal.schema import check_complete

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
