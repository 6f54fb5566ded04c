"""The token store: the credentials replybench obtains itself and must keep between runs.

An X OAuth 2.0 token pair (from `replybench login x`, renewed by every refresh) and a Bluesky
session (access and refresh JWTs) live here, one file per study and account, in the user's
state directory (platformdirs' `user_state_dir("replybench")`, e.g.
`~/.local/state/replybench` on Linux), or in `$REPLYBENCH_STATE_DIR` when that is set (tests,
or a researcher who wants them elsewhere). Never in the study folder, the journal, logs or
exports: a study folder is meant to be shared, and these are live credentials.

Each file is created 0600 inside 0700 folders and replaced durably: a temporary beside it,
fsync, rename, fsync of the folder. The caller saves a new pair *before* using it, so a
process killed at any instant leaves on disk either the old pair (whose refresh token was
not yet spent) or the new one (already safe), never neither. X's and Bluesky's refresh tokens
are single-use (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code,
https://docs.bsky.app/docs/advanced-guides/oauth-client "refresh tokens are single-use"):
losing the new pair after the old one was spent would lock the runner out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE_ENV = "REPLYBENCH_STATE_DIR"
_FILE_MODE = 0o600
_DIR_MODE = 0o700
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def state_dir(env: Mapping[str, str]) -> Path:
    """Where the store lives: `$REPLYBENCH_STATE_DIR`, else the platform's user state dir."""
    override = env.get(STATE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("replybench"))


def study_key(study_dir: Path) -> str:
    """The store's name for a study: its folder's name and a digest of its absolute path, so
    two studies with the same folder name never share credentials (a moved folder logs in
    anew)."""
    resolved = study_dir.resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:12]
    return f"{_UNSAFE.sub('_', resolved.name) or 'study'}-{digest}"


@dataclass(frozen=True)
class TokenStore:
    """The stored credentials of one study: `load` and `save` a JSON object per platform and
    account."""

    root: Path
    study: str

    @classmethod
    def for_study(cls, study_dir: Path, env: Mapping[str, str]) -> TokenStore:
        return cls(state_dir(env) / "tokens", study_key(study_dir))

    def path(self, platform: str, account: str) -> Path:
        name = _UNSAFE.sub("_", f"{platform}-{account.lstrip('@').lower()}")
        return self.root / self.study / f"{name}.json"

    def load(self, platform: str, account: str) -> dict[str, Any] | None:
        """The stored object, or None when there is none (or it is unreadable: the caller
        logs in anew, which is what a missing file means too)."""
        try:
            data = json.loads(self.path(platform, account).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, platform: str, account: str, data: Mapping[str, Any]) -> None:
        """Replace the stored object durably (see the module's docstring); on return it is on
        disk and survives a crash of this process or of the machine."""
        path = self.path(platform, account)
        _make_private_dirs(path.parent)
        payload = json.dumps(dict(data), sort_keys=True).encode("utf-8")
        with _temporary(path) as (fd, tmp):
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            os.replace(tmp, path)
        _fsync_dir(path.parent)

    def forget(self, platform: str, account: str) -> None:
        """Remove the stored object (a refused credential: the next run logs in anew)."""
        self.path(platform, account).unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):
            _fsync_dir(self.path(platform, account).parent)


def _make_private_dirs(folder: Path) -> None:
    """Create `folder` and its missing parents, each 0700 (existing ones are left alone)."""
    missing: list[Path] = []
    at = folder
    while not at.exists() and at != at.parent:
        missing.append(at)
        at = at.parent
    for made in reversed(missing):
        with contextlib.suppress(FileExistsError):
            made.mkdir(mode=_DIR_MODE)


@contextlib.contextmanager
def _temporary(path: Path) -> Iterator[tuple[int, Path]]:
    """A new 0600 file beside `path` (created so, never chmod-ed after: no instant when
    another user could open it), removed unless it was renamed over `path`."""
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, _FILE_MODE)
    try:
        yield fd, tmp
    finally:
        os.close(fd)
        tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
