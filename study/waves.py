"""Waves: a study repeated with the same design in a later period, one folder per wave.

A wave is an ordinary study folder whose study.toml says which wave it is (`wave = 2`) and
where the wave before it lives (`previous = "../my-study"`, relative to the folder). Every
command treats it as the study it is; `report` adds the changes since the previous wave and
`replybench compare` compares any two. `new_wave` starts the next wave from a finished one.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from re import Match

from study.errors import StudyError

# The researcher's files a new wave copies (the journal, the simulator's files and any site
# stay with the old wave).
WAVE_FILES = ("study.toml", "targets.csv", "scripts.csv", "simulator.toml")


@dataclass(frozen=True)
class NewWave:
    folder: Path
    wave: int
    start: date
    end: date
    previous: str  # as written into study.toml


def previous_problem(folder: Path, previous: str) -> str:
    """What is wrong with study.toml's `previous` (empty when nothing is)."""
    found = folder / previous
    if not found.is_dir():
        return (
            f"previous = {previous!r} is not a folder (looked for {found}); write the path of "
            "the previous wave's study folder relative to this one"
        )
    if found.resolve() == folder.resolve():
        return f"previous = {previous!r} is this study's own folder; name the wave before it"
    return ""


def default_start(start: date, end: date, window_hours: float) -> date:
    """The first day after the last window of the period start..end closes that falls on
    the same weekday as `start` (so each round's days of the week stay the same)."""
    earliest = end + timedelta(days=math.ceil(window_hours / 24) + 1)
    return earliest + timedelta(days=(start.weekday() - earliest.weekday()) % 7)


def new_wave(old_dir: Path, new_dir: Path, start: date | None = None) -> NewWave:
    """Copy the study in `old_dir` into the new folder `new_dir` as its next wave: the same
    design, the sending period moved to begin on `start` (default: `default_start`) with
    its length kept, `wave` one more and `previous` naming `old_dir`. The new folder is
    written whole or not at all. StudyError when `new_dir` exists or the old study is bad.
    """
    from study.load import load_study

    old = load_study(old_dir)
    if new_dir.exists():
        raise StudyError(f"{new_dir}: already exists; give a new folder for the next wave")
    begin = start or default_start(old.start, old.end, old.window_hours)
    finish = begin + (old.end - old.start)
    wave = old.wave + 1
    parent = new_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    previous = Path(os.path.relpath(old_dir.resolve(), new_dir.resolve())).as_posix()
    stage = Path(tempfile.mkdtemp(prefix=f".{new_dir.name}.", dir=parent))
    try:
        for name in WAVE_FILES:
            if (old_dir / name).is_file():
                shutil.copyfile(old_dir / name, stage / name)
        toml = stage / "study.toml"
        text = toml.read_text(encoding="utf-8")
        toml.write_text(_next_wave_toml(text, begin, finish, wave, previous), encoding="utf-8")
        made = load_study(stage)
        if (made.start, made.end, made.wave) != (begin, finish, wave):
            raise StudyError(
                f"{old_dir / 'study.toml'}: could not move its sending period (start and end "
                "under [study] as TOML dates); copy the folder and edit them by hand"
            )
        stage.rename(new_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return NewWave(new_dir, wave, begin, finish, previous)


def _next_wave_toml(text: str, start: date, end: date, wave: int, previous: str) -> str:
    """study.toml's text with [study]'s dates, wave and previous set (comments kept)."""
    for key, day in (("start", start), ("end", end)):
        found = re.compile(rf"^({key}\s*=\s*)\d{{4}}-\d{{2}}-\d{{2}}", flags=re.M)
        text = found.sub(_with(day.isoformat(), keep_key=True), text, count=1)
    quoted = '"' + previous.replace("\\", "\\\\").replace('"', '\\"') + '"'
    for key, value in (("previous", quoted), ("wave", str(wave))):
        setting = f"{key} = {value}"
        line = re.compile(rf"^{key}\s*=.*$", flags=re.M)
        if line.search(text):
            text = line.sub(_with(setting), text, count=1)
        else:  # first in the [study] table
            head = re.compile(r"^\[study\][^\n]*\n", flags=re.M)
            text = head.sub(_with(setting + "\n", after=True), text, count=1)
    return text


def _with(
    value: str, *, keep_key: bool = False, after: bool = False
) -> Callable[[Match[str]], str]:
    """A re.sub replacement inserting `value` as it is (no backslash escapes): in place of
    the match, after its first group, or after the whole match."""

    def replace(m: Match[str]) -> str:
        if keep_key:
            return m.group(1) + value
        return m.group(0) + value if after else value

    return replace
