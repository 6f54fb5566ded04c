"""Reading a study folder into a `Study`, reporting every problem at once.

`find_problems` checks the whole folder against docs/study-folder.md and returns each problem
with its file, line and fix; `load_study` is the strict form that raises them together. Line
numbers are physical lines: tomllib keeps none, so tables and keys are found in the raw text.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from study.approval import TABLE as APPROVAL
from study.approval import read_approval
from study.errors import Problem, StudyProblems
from study.load_channels import (
    CHANNEL_KINDS,
    Rule,
    is_date,
    is_int,
    is_number,
    is_text,
)
from study.load_runner import ALERT_RULES, RUNNER_RULES, alert_settings, runner_settings
from study.load_tables import Problems, read_scripts, read_targets
from study.load_toml import TOML_FILE as TOML_FILE
from study.load_toml import TomlCheck
from study.model import (
    Alerts,
    Ethics,
    Scope,
    Study,
)
from study.personas import read_assignment, read_personas
from study.toml_lines import TomlLines, error_line
from study.waves import previous_problem

SUPPORTED_CHANNELS = CHANNEL_KINDS


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
_TABLES = ("study", "ethics", "slots", "channels", "countries", "alerts", "personas", "assignment")


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
    check = TomlCheck(TomlLines(text), out)
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
    ethics, approval = None, None
    if ethics_table is not None:
        caps = {k: v for k, v in ethics_table.items() if k != APPROVAL}
        ethics = check.keys(caps, ("ethics",), _ETHICS)
        approval, sound = read_approval(ethics_table, check)
        ethics = ethics if sound else None
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
    personas = read_personas(data, check, tuple(parts["channels"]))
    assignment = read_assignment(data, check)
    if len(out.items) > before or settings is None or ethics is None or personas is None:
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
        ethics=Ethics(
            ethics["max_probes_per_account"], ethics["max_probes_per_account_per_day"], approval
        ),
        slots=tuple(parts["slots"]),
        channels=tuple(sorted(parts["channels"], key=lambda c: c.name)),
        countries=tuple(sorted(parts["countries"], key=lambda c: c.code)),
        targets=(),
        scripts=(),
        path=folder,
        alerts=alerts,
        personas=personas,
        assignment=assignment,
        **runner_settings(settings),
    )
    return data, design


def _check_alerts(data: dict[str, Any], check: TomlCheck) -> Alerts | None:
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
