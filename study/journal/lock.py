"""One runner per study folder: an exclusive OS lock (flock) on `journal.sqlite` itself.

A lock file beside the journal could be deleted while a runner holds it, and a second runner
would then lock a new file and run alongside the first; the journal cannot be deleted unseen
(the campaign would start afresh, and the new journal's runner looks its probes up before
sending). flock locks are independent of the POSIX locks SQLite takes on the same file, and
belong to the open file, so no other open or close in the process releases them. The runner's
pid is kept in the journal's meta (`runner_pid`), for `status` and the refusal's message.

A process must not close a descriptor of the journal it opened itself while it has a SQLite
connection to it open (that would drop SQLite's POSIX locks): `running_pid` is asked before
the reader connects.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path
from types import TracebackType

from study.journal import errors
from study.paths import journal_path

PID = "runner_pid"  # the meta key


class RunLock:
    """Hold the study's journal for this runner: `acquire`, or StudyError (`errors.locked`);
    `release` after the runner's journal connection is closed (closing a descriptor of the
    journal drops the process's SQLite locks on it)."""

    def __init__(self, study_dir: Path) -> None:
        self.path = journal_path(study_dir)
        self._fd: int | None = None

    def acquire(self) -> None:
        self._fd = os.open(self.path, os.O_RDONLY)  # the journal exists: created before
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise errors.locked(self.path, _pid_of(self.path)) from None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # and with it the flock, if it was taken
            self._fd = None

    def __enter__(self) -> RunLock:
        try:
            self.acquire()
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def running_pid(study_dir: Path) -> int | None:
    """The pid of the runner holding the study's journal (-1 when it did not say), or None
    when no runner is running."""
    path = journal_path(study_dir)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid_of(path) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _pid_of(path: Path) -> int | None:
    """The runner_pid the journal's meta names, if any."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (PID,)).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return int(row[0]) if row is not None and str(row[0]).isdigit() else None
