"""Reading a study folder into a `Study`, reporting every problem at once.

`find_problems` checks the whole folder against docs/study-folder.md and returns each problem
with its file, line and fix; `load_study` is the strict form that raises them together. Line
numbers are physical lines: tomllib keeps none, so tables and keys are found in the raw text.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import zoneinfo
from collections.abc import Callable
from dataclasses import replace
from datetime import time
from functools import cache
from pathlib import Path
from typing import Any

from study.countries import COUNTRIES, is_language, suggest_country, suggest_language
from study.csvrows import name_problem, suggest
from study.errors import Problem, StudyProblems
from study.load_channels import (
    CHANNEL_KINDS,
    CHANNEL_RULES,
    Rule,
    channel_problems,
    channel_settings,
    is_date,
    is_int,
    is_number,
    is_text,
)
from study.load_runner import ALERT_RULES, RUNNER_RULES, alert_settings, runner_settings
from study.load_tables import Problems, read_scripts, read_targets
from study.model import (
    WEEKDAYS,
    Alerts,
    ChannelSettings,
    Country,
    Ethics,
    Scope,
    Slot,
    Study,
)
from study.toml_lines import TomlLines, error_line
from study.waves import previous_problem

SUPPORTED_CHANNELS = CHANNEL_KINDS
TOML_FILE = "study.toml"

_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")

_STUDY = {
    "name": Rule("a non-empty string", 'name the study, e.g. "Benchmark 2026"', is_text),
    "seed": Rule("a whole number", "pick any, e.g. 20260302: the plan follows from it", is_int),
    "window_hours": Rule(
        "a number of hours > 0",
        "set it to the observation window, e.g. 72",
        lambda v: is_number(v) and v > 0,
    ),
    "start": Rule(
        "a TOML date (no quotes)", "write the first sending day, e.g. 2026-03-02", is_date
    ),
    "end": Rule("a TOML date (no quotes)", "write the last sending day, e.g. 2026-03-13", is_date),
    "probes_per_target": Rule(
        "a whole number >= 1",
        "set how many probes (rounds) each target gets, e.g. 3",
        lambda v: is_int(v) and v >= 1,
    ),
    "min_spacing_hours": Rule(
        "a number of hours >= 0",
        "set the least time between two probes to one account, e.g. 2",
        lambda v: is_number(v) and v >= 0,
    ),
    **RUNNER_RULES,
    "separate_windows": Rule(
        "true or false",
        "write true to keep one account's observation windows apart where the sending "
        "period allows (docs/study-folder.md)",
        lambda v: isinstance(v, bool),
        optional=True,
        default="false",
    ),
    "wave": Rule(
        "a whole number >= 1",
        "number the study's waves 1, 2, 3... (docs/study-folder.md, Waves)",
        lambda v: is_int(v) and v >= 1,
        optional=True,
        default="1",
    ),
    "previous": Rule(
        "a non-empty string",
        'write the previous wave\'s folder relative to this one, e.g. "../my-study"',
        is_text,
        optional=True,
    ),
}
_ETHICS = {
    "max_probes_per_account": Rule(
        "a whole number >= 1",
        "cap the probes one account gets in the whole study, e.g. 60",
        lambda v: is_int(v) and v >= 1,
    ),
    "max_probes_per_account_per_day": Rule(
        "a whole number >= 1",
        "cap the probes one account gets per UTC day, e.g. 4",
        lambda v: is_int(v) and v >= 1,
    ),
}
_SLOT = {
    "days": Rule(
        "a non-empty list of days",
        'list them, e.g. ["mon", "tue", "wed", "thu", "fri"]',
        lambda v: isinstance(v, list) and v != [] and all(isinstance(d, str) for d in v),
    ),
    "start": Rule('a time "HH:MM"', 'e.g. "09:00"', lambda v: isinstance(v, str)),
    "end": Rule(
        'a time "HH:MM"', 'e.g. "17:00" (the slot ends before it)', lambda v: isinstance(v, str)
    ),
}
_COUNTRY = {
    "name": Rule("a non-empty string", 'e.g. "Germany"', is_text),
    "timezone": Rule("an IANA time zone", 'e.g. "Europe/Berlin"', is_text),
    "language": Rule("an ISO 639-1 code", 'e.g. "de"', is_text),
    "local_name": Rule(
        "a non-empty string",
        "write the name as it reads inside a sentence in the country's language, "
        'e.g. "the UK", or leave the key out to use name',
        is_text,
        optional=True,
    ),
}
_TABLES = ("study", "ethics", "slots", "channels", "countries", "alerts")


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    text = repr(value) if isinstance(value, str | list) else str(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text):,} characters)"


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class _TomlCheck:
    """Checks the parsed study.toml, reporting at the lines `TomlLines` found."""

    def __init__(self, lines: TomlLines, out: Problems) -> None:
        self.where = lines
        self.out = out
        self.typos: set[tuple[str, ...]] = set()  # keys an unknown key probably misspells

    def unknown(self, path: tuple[str, ...], known: list[str], hint: str | None = None) -> None:
        """Report the unknown key at `path`, remembering which known key it may misspell."""
        meant = difflib.get_close_matches(path[-1], known, n=1, cutoff=0.6)
        if meant:
            self.typos.add(path[:-1] + (meant[0],))
        where = f"in [{'.'.join(path[:-1])}]" if len(path) > 1 else "at the top level"
        fix = hint or (f"did you mean '{meant[0]}'?" if meant else f"known: {', '.join(known)}")
        self.problem(path, f"unknown key '{path[-1]}' {where}; {fix}")

    def problem(self, path: tuple[str, ...], message: str) -> None:
        self.out.add(TOML_FILE, self.where.line(*path), message)

    def names(self, table: dict[str, Any], path: tuple[str, ...], limit: int = 100) -> bool:
        """Whether the names in `table` (name, local_name) can be shown; each that cannot
        (a direction control, a control character, too long) is reported."""
        good = True
        for key in ("name", "local_name"):
            value = table.get(key)
            if isinstance(value, str) and (why := name_problem(key, value, limit)):
                good = False
                self.problem(path + (key,), why)
        return good

    def table(self, parent: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
        name = "[" + ".".join(path) + "]"
        value = parent.get(path[-1])
        if value is None:
            if path not in self.typos:
                self.problem(
                    path[:-1], f"there is no {name} table; add one (see docs/study-folder.md)"
                )
            return None
        if not isinstance(value, dict):
            self.problem(
                path, f"{path[-1]} must be a table, not {_show(value)}; write it as {name}"
            )
            return None
        return value

    def keys(
        self, table: dict[str, Any], path: tuple[str, ...], rules: dict[str, Rule]
    ) -> dict[str, Any] | None:
        """The table's values if every rule holds, else None (each failure reported)."""
        name = "[" + ".".join(path) + "]"
        good = True
        for key in table:
            if key not in rules:
                good = False
                self.unknown(path + (key,), list(rules))
        for key, rule in rules.items():
            if key not in table:
                if rule.optional:
                    continue
                good = False
                if path + (key,) in self.typos:
                    continue  # one typo, one problem
                self.problem(path, f"{name} has no {key} ({rule.must}); add it: {rule.fix}")
            elif not rule.ok(table[key]):
                good = False
                shown = "the value given (not shown)" if rule.secret else _show(table[key])
                self.problem(path + (key,), f"{key} must be {rule.must}, not {shown}; {rule.fix}")
        return table if good else None

    def slot(self, name: str, table: dict[str, Any]) -> Slot | None:
        path = ("slots", name)
        good = self.keys(table, path, _SLOT) is not None
        days = table.get("days", [])
        for day in days if _SLOT["days"].ok(days) else []:
            if day not in WEEKDAYS:
                good = False
                meant = day[:3].lower()
                fix = (
                    f"did you mean '{meant}'?"
                    if meant in WEEKDAYS
                    else f"use {', '.join(WEEKDAYS)}"
                )
                self.problem(path + ("days",), f"slot '{name}': '{day}' is not a day; {fix}")
        for key in ("start", "end"):
            value = table.get(key)
            if isinstance(value, str) and not _HHMM.fullmatch(value):
                good = False
                self.problem(
                    path + (key,),
                    f"slot '{name}': {key} {value!r} is not a time \"HH:MM\" "
                    '(24-hour clock); write e.g. "09:00"',
                )
        if not good:
            return None
        start, end = time.fromisoformat(table["start"]), time.fromisoformat(table["end"])
        if end <= start:
            self.problem(
                path + ("end",),
                f"slot '{name}': end {table['end']} is not after start {table['start']}; "
                "a slot cannot cross midnight: end it later or split it in two",
            )
            return None
        return Slot(name, frozenset(WEEKDAYS.index(d) for d in table["days"]), start, end)

    def channel(self, name: str, table: dict[str, Any]) -> ChannelSettings | None:
        path = ("channels", name)
        if name not in CHANNEL_KINDS:
            kinds = ", ".join(CHANNEL_KINDS)
            meant = suggest(name, list(CHANNEL_KINDS))
            fix = f"did you mean '{meant}'? (one of: {kinds})" if meant else f"use one of: {kinds}"
            self.problem(path, f"channel '{name}' is not supported; {fix}")
            return None
        values = self.keys(table, path, CHANNEL_RULES[name])
        if values is None:
            return None
        good = True
        for key, message in channel_problems(name, values):
            good = False
            self.problem(path + (key,), message)
        return channel_settings(name, values) if good else None

    def country(self, code: str, table: dict[str, Any]) -> Country | None:
        path = ("countries", code)
        good = True
        if code not in COUNTRIES:
            good = False
            hint = suggest_country(code)
            fix = f"did you mean '{hint}'?" if hint else "see ISO 3166-1 alpha-2, e.g. 'DE'"
            self.problem(path, f"country '{code}' is not an ISO 3166-1 alpha-2 code; {fix}")
        good = self.keys(table, path, _COUNTRY) is not None and good
        good = self.names(table, path) and good
        zone = table.get("timezone", "")
        if is_text(zone) and zone not in _time_zones():
            good = False
            zones = sorted(_time_zones())
            same = [z for z in zones if z.lower() == zone.lower()]
            close = same or difflib.get_close_matches(zone, zones, n=1, cutoff=0.6)
            fix = f"did you mean '{close[0]}'?" if close else "use a name like 'Europe/Berlin'"
            self.problem(
                path + ("timezone",), f"timezone '{zone}' of {code} is not an IANA time zone; {fix}"
            )
        language = table.get("language", "")
        if is_text(language) and not is_language(language):
            good = False
            hint = suggest_language(language)
            fix = f"did you mean '{hint}'?" if hint else "use two lower-case letters, e.g. 'de'"
            self.problem(
                path + ("language",),
                f"language '{language}' of {code} is not an ISO 639-1 code; {fix}",
            )
        if not good:
            return None
        return Country(code, table["name"], zone, language, table.get("local_name", ""))


def _check_toml(folder: Path, out: Problems) -> tuple[dict[str, Any], Study | None] | None:
    """Parse and check study.toml: its raw tables (for the CSV checks) and, if valid, the
    study without targets and scripts."""
    file = folder / TOML_FILE
    if not file.is_file():
        out.add(TOML_FILE, None, "is missing; write one (see docs/study-folder.md)")
        return None
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        out.add(TOML_FILE, None, "is not UTF-8 text; save it as UTF-8")
        return None
    if not text.strip():
        out.add(TOML_FILE, None, "is empty; write the design in it (see docs/study-folder.md)")
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = error_line(error, text)
        out.add(TOML_FILE, line, f"is not valid TOML ({error}); fix the syntax on this line")
        return None
    check = _TomlCheck(TomlLines(text), out)
    before = len(out.items)
    for key in data:
        if key not in _TABLES:
            check.unknown((key,), list(_TABLES), "put it under [study]" if key in _STUDY else None)
    study = check.table(data, ("study",))
    settings = check.keys(study, ("study",), _STUDY) if study is not None else None
    if study is not None and not check.names(study, ("study",), 200):
        settings = None
    if settings is not None and settings["start"] > settings["end"]:
        check.problem(
            ("study", "start"),
            f"start ({settings['start']}) is after end ({settings['end']}); "
            "the sending period runs from start to end: swap them",
        )
    if settings is not None and "previous" in settings:
        problem = previous_problem(folder, settings["previous"])
        if problem:
            check.problem(("study", "previous"), problem)
    alerts = _check_alerts(data, check)
    ethics_table = check.table(data, ("ethics",))
    ethics = check.keys(ethics_table, ("ethics",), _ETHICS) if ethics_table is not None else None
    parts: dict[str, list[Any]] = {"slots": [], "channels": [], "countries": []}
    makers: dict[str, Callable[[str, dict[str, Any]], Any]] = {
        "slots": check.slot,
        "channels": check.channel,
        "countries": check.country,
    }
    example = {
        "slots": "[slots.business]",
        "channels": "[channels.x]",
        "countries": "[countries.DE]",
    }
    for kind, make in makers.items():
        tables = check.table(data, (kind,))
        if tables is None:
            continue
        if not tables:
            check.problem((kind,), f"[{kind}] is empty; add at least one, e.g. {example[kind]}")
        for name, table in tables.items():
            if not isinstance(table, dict):
                check.problem((kind, name), f"{kind}.{name} must be a table; write [{kind}.{name}]")
            elif (made := make(name, table)) is not None:
                parts[kind].append(made)
    if len(out.items) > before or settings is None or ethics is None:
        return data, None
    design = Study(
        name=settings["name"],
        seed=settings["seed"],
        window_hours=float(settings["window_hours"]),
        start=settings["start"],
        end=settings["end"],
        probes_per_target=settings["probes_per_target"],
        min_spacing_hours=float(settings["min_spacing_hours"]),
        separate_windows=bool(settings.get("separate_windows", False)),
        wave=int(settings.get("wave", 1)),
        previous=folder / settings["previous"] if "previous" in settings else None,
        ethics=Ethics(ethics["max_probes_per_account"], ethics["max_probes_per_account_per_day"]),
        slots=tuple(parts["slots"]),
        channels=tuple(sorted(parts["channels"], key=lambda c: c.name)),
        countries=tuple(sorted(parts["countries"], key=lambda c: c.code)),
        targets=(),
        scripts=(),
        path=folder,
        alerts=alerts,
        **runner_settings(settings),
    )
    return data, design


def _check_alerts(data: dict[str, Any], check: _TomlCheck) -> Alerts | None:
    """The optional [alerts] table (None when absent or when it has problems, reported)."""
    if "alerts" not in data:
        return None
    table = check.table(data, ("alerts",))
    values = check.keys(table, ("alerts",), ALERT_RULES) if table is not None else None
    return None if values is None else alert_settings(values)


def _country_names(tables: dict[str, Any]) -> dict[str, list[str]]:
    """The names `{country}` can become in each language, from the [countries] tables as
    parsed, so scripts are checked even when a table has problems."""
    names: dict[str, list[str]] = {}
    for table in tables.values():
        if not isinstance(table, dict) or not isinstance(table.get("language"), str):
            continue
        local_name = table.get("local_name")
        name = local_name if is_text(local_name) else table.get("name")
        if isinstance(name, str):
            names.setdefault(table["language"], []).append(name)
    return names


def find_problems(path: Path) -> tuple[Study | None, list[Problem]]:
    """Check the study folder at `path`: the study if it is sound, and every problem found."""
    out = Problems()
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        fix = "pass the folder that holds study.toml, or create one with `replybench init`"
        return None, [Problem(str(path.absolute()), None, f"{what}; {fix}")]
    checked = _check_toml(path, out)
    data = checked[0] if checked else None
    countries: dict[str, Any] | None = None
    channels: list[str] | None = None
    if data is not None:
        if isinstance(data.get("countries"), dict):
            countries = {
                code: table.get("language") if isinstance(table, dict) else None
                for code, table in data["countries"].items()
            }
        if isinstance(data.get("channels"), dict):
            channels = sorted(data["channels"])
    read = read_targets(path, out, countries, channels)
    targets, named = read if read is not None else (None, set())
    used = None
    if read is not None and countries is not None:
        used = {code: countries[code] for code in named if code in countries}
    # Texts are measured on the channels their targets use, with those targets' handles.
    handles: dict[str, list[str]] = {}
    for t in targets or ():
        if t.scope is not Scope.NONE:
            handles.setdefault(t.channel, []).append(t.handle)
    lint_channels = sorted(handles) if handles else (channels or [])
    names = None
    if data is not None and isinstance(data.get("countries"), dict):
        names = _country_names(data["countries"])
    scripts = read_scripts(path, out, used, lint_channels, names, handles)
    problems = sorted(out.items, key=lambda p: (p.file, p.line or 0))
    design = checked[1] if checked else None
    if problems or design is None or targets is None or scripts is None:
        return None, problems
    ordered = sorted(targets, key=lambda t: (t.brand, t.country, t.channel))
    return replace(design, targets=tuple(ordered), scripts=scripts), []


def load_study(path: Path) -> Study:
    """The study in the folder at `path`; raises `StudyProblems` listing every problem."""
    study, problems = find_problems(path)
    if study is None:
        raise StudyProblems(problems)
    return study
