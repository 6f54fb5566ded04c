"""`replybench init`: a small, complete, valid study folder to start from.

The files are templates shipped in `study/templates/init/` (copied byte for byte): three
invented brands in the United States and Germany on X, one of them asked through its global
account in Germany and one with no account there, two scripts in English and German.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from study.errors import StudyError

# The files `init` writes, in this order.
INIT_FILES = ("study.toml", "targets.csv", "scripts.csv", "README.md")


def init_study(path: Path) -> list[Path]:
    """Write a new study into the folder `path` (created if needed); the files written.

    Refuses a folder that already holds anything, so a study is never overwritten.
    """
    if path.exists() and not path.is_dir():
        raise StudyError(f"{path} is a file, not a folder; choose a new folder name for the study")
    if path.is_dir() and any(path.iterdir()):
        raise StudyError(
            f"{path} already exists and is not empty; choose a new folder, or empty this one"
        )
    templates = files("study").joinpath("templates", "init")
    contents = {name: templates.joinpath(name).read_bytes() for name in INIT_FILES}
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in contents.items():
        target = path / name
        target.write_bytes(content)
        written.append(target)
    return written
