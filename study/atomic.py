"""Files written whole or not at all, and no temporaries left behind by a writer that died.

A file's next version is built in a temporary file beside it (`.NAME.RANDOM.tmp`) and renamed
over it. The writer holds an exclusive `flock` on its temporary while it builds it; the kernel
releases that lock when the process ends, however it ends (`kill -9`, a power cut aside). So a
temporary nobody holds a lock on was left by a writer that died, and the next writer of the
same file removes it. The folder itself is locked while temporaries are swept and created, so
a sweep never sees a new temporary before its writer has locked it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

# What SQLite keeps beside a database built in a temporary file (its rollback journal or WAL).
_SIDECARS = ("-journal", "-wal", "-shm")
# A temporary is created with the mode an ordinary `open(path, "w")` would give it (0o666 less
# the umask): exports and sites are meant to be shared, and the researcher's umask says how
# widely. `tempfile.mkstemp` would make every output 0o600.
_MODE = 0o666
_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write through a temporary file in the same folder, then rename it over `path`, so a
    reader never sees half a file and a failure leaves the old one (text: UTF-8)."""
    with temporary_beside(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)


@contextlib.contextmanager
def temporary_beside(path: Path) -> Iterator[Path]:
    """A new empty file beside `path` to build its next version in, locked by this process
    while the block runs and removed when it ends unless it was renamed over `path`.

    Temporaries of `path` that no process holds (a writer killed mid-way) are removed first."""
    with _folder_locked(path.parent):
        _sweep(path)
        fd, tmp = _create_beside(path)
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield tmp
    finally:
        for leftover in (tmp, *(Path(f"{tmp}{s}") for s in _SIDECARS)):
            leftover.unlink(missing_ok=True)
        os.close(fd)  # releases the lock


def _create_beside(path: Path) -> tuple[int, Path]:
    """A new, empty temporary of `path` (its descriptor and path), never an existing file or
    a symbolic link."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, _FLAGS, _MODE), tmp
        except FileExistsError:
            continue


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries of `path` left by writers that died (for a writer that changes
    `path` in place and so makes no temporary of its own)."""
    if path.parent.is_dir():
        with _folder_locked(path.parent):
            _sweep(path)


@contextlib.contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _sweep(path: Path) -> None:
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # its writer is still at work
        finally:
            os.close(fd)
        for leftover in (tmp, *(Path(f"{tmp}{s}") for s in _SIDECARS)):
            leftover.unlink(missing_ok=True)
