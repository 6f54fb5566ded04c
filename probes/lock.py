"""One runner per study folder: an exclusive lock on `journal/run.lock`."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from study.errors import StudyError


def lock_path(study_dir: Path) -> Path:
    return study_dir / "journal" / "run.lock"


class RunLock:
    def __init__(self, study_dir: Path) -> None:
        self.path = lock_path(study_dir)
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StudyError(
                f"{self.path}: another 'replybench run' is already running for this study "
                f"(pid {running_pid(self.path.parent.parent) or '?'}); wait for it or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def running_pid(study_dir: Path) -> int | None:
    """The pid of the runner holding the lock, or None when no runner is running."""
    path = lock_path(study_dir)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = path.read_text().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
