"""The folder a site goes into: built beside it, swapped in whole, never over others' files.

`staged_site(DIR)` checks DIR first: it must be new, empty, or hold only what an earlier
report wrote (listed in its `.replybench-site` manifest), unless `force`. The site is then
built in a new hidden folder beside DIR; only when it is complete is DIR renamed aside, the
new folder renamed to DIR, and the old one removed. A failure (a full disk) before the swap
leaves DIR as it was; the two renames are each atomic, and a failure between them puts the
old folder back. Nothing is ever written or deleted through a symbolic link: the new folder
is fresh, and the old one is removed with `shutil.rmtree`, which does not follow links.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from study.errors import StudyError

log = logging.getLogger(__name__)

MANIFEST = ".replybench-site"
_HEADER = "# Files written by replybench report; it replaces exactly these when run again.\n"
_SHOWN = 3  # foreign files named in the refusal


@contextmanager
def staged_site(
    site_dir: Path,
    *,
    force: bool = False,
    vouched: Iterable[Path] = (),
    keep: Iterable[Path] = (),
) -> Iterator[Path]:
    """A new, empty folder beside `site_dir` to build the site in, which replaces `site_dir`
    when the block ends without error (and is removed when it does not).

    `vouched`: files inside `site_dir` the caller will publish (its data files) and so may
    replace. `keep`: folders that must survive (the study folder); `site_dir` may not hold
    one, even with `force`. Raises StudyError when `site_dir` holds files replybench did not
    write (unless `force`) and when writing fails (the message names the reason).
    """
    check_site_dir(site_dir, force=force, vouched=vouched, keep=keep)
    parent = site_dir.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = _fresh(parent, site_dir.name, "new")
    except OSError as e:
        raise _unwritable(site_dir, e) from e
    try:
        yield stage
        _write_manifest(stage)
        _swap(stage, site_dir)
    except OSError as e:
        raise _unwritable(site_dir, e) from e
    finally:
        if os.path.lexists(stage):
            shutil.rmtree(stage, ignore_errors=True)


def check_site_dir(
    site_dir: Path, *, force: bool = False, vouched: Iterable[Path] = (), keep: Iterable[Path] = ()
) -> None:
    """Raise StudyError unless a site may be written to `site_dir` (see `staged_site`)."""
    here = Path(os.path.abspath(site_dir))
    for kept in [Path.cwd(), Path.home(), *keep]:
        if Path(os.path.abspath(kept)).is_relative_to(here):
            raise StudyError(
                f"{site_dir} holds {kept}, which a site must not replace; choose a new folder "
                "for --out, e.g. site"
            )
    try:
        mode = here.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise StudyError(
            f"{site_dir} is a symbolic link; give the folder itself (replybench does not write "
            "through links)"
        )
    if not stat.S_ISDIR(mode):
        raise StudyError(f"{site_dir} is a file, not a folder; choose another --out")
    foreign = foreign_files(here, vouched)
    if foreign and not force:
        shown = ", ".join(foreign[:_SHOWN]) + (" ..." if len(foreign) > _SHOWN else "")
        raise StudyError(
            f"{site_dir} holds {len(foreign)} file(s) replybench did not write ({shown}); "
            "choose a new or empty folder for --out, or add --force to replace the folder and "
            "everything in it"
        )


def foreign_files(site_dir: Path, vouched: Iterable[Path] = ()) -> list[str]:
    """The files (and links, and anything else but folders) under `site_dir` that its
    manifest does not list and the caller does not vouch for, as sorted relative paths."""
    root = Path(os.path.abspath(site_dir))
    ours = _manifest(root) | {MANIFEST}
    for path in vouched:
        full = Path(os.path.abspath(path))
        if full.is_relative_to(root):
            ours.add(full.relative_to(root).as_posix())
    found = []
    for path, mode in _walk(root):
        rel = path.relative_to(root).as_posix()
        if not (stat.S_ISREG(mode) and rel in ours):
            found.append(rel)
    return sorted(found)


def _walk(folder: Path) -> Iterator[tuple[Path, int]]:
    """Every entry but folders under `folder` with its mode, never following a link."""
    with os.scandir(folder) as entries:
        for entry in entries:
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                yield from _walk(Path(entry.path))
            else:
                yield Path(entry.path), mode


def _manifest(root: Path) -> set[str]:
    path = root / MANIFEST
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return set()
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {line for line in text.splitlines() if line and not line.startswith("#")}


def _write_manifest(stage: Path) -> None:
    names = sorted(p.relative_to(stage).as_posix() for p, _ in _walk(stage))
    (stage / MANIFEST).write_text(_HEADER + "".join(f"{n}\n" for n in names), encoding="utf-8")


def _fresh(parent: Path, name: str, what: str) -> Path:
    """A new, empty hidden folder in `parent` (mode from the umask)."""
    while True:
        path = parent / f".{name}.replybench-{what}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _swap(stage: Path, site_dir: Path) -> None:
    """Put the complete site in `stage` where `site_dir` is, then remove the old one."""
    try:
        old_mode = site_dir.lstat().st_mode
    except FileNotFoundError:
        os.rename(stage, site_dir)
        return
    os.chmod(stage, stat.S_IMODE(old_mode))  # keep the permissions the folder was given
    aside = stage.parent / f".{site_dir.name}.replybench-old-{secrets.token_hex(4)}"
    rename(site_dir, aside)
    try:
        rename(stage, site_dir)
    except BaseException:
        rename(aside, site_dir)
        raise
    remove(aside)  # the new site is in place either way: say what is left, not fail
    if os.path.lexists(aside):
        log.warning(
            "the new site is in %s, but its old copy could not be removed: delete the folder %s",
            site_dir,
            aside,
        )


def rename(src: Path, dst: Path) -> None:
    """`os.rename`; a seam for the tests that fail a swap half-way."""
    os.rename(src, dst)


def remove(folder: Path) -> None:
    """`shutil.rmtree`, whatever it meets; a seam for the tests that fail the clean-up."""
    shutil.rmtree(folder, ignore_errors=True)


def _unwritable(site_dir: Path, e: OSError) -> StudyError:
    where = f" ({e.filename})" if e.filename else ""
    return StudyError(
        f"{site_dir}: could not write the site: {e.strerror or e}{where}; the folder is "
        "unchanged: free some space or fix the permissions and run again"
    )
