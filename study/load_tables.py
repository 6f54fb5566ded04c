"""The two tables of a study folder: targets.csv and scripts.csv, read and checked.

Each problem carries the physical line it is on (the header is line 1; a quoted value may span
lines), what is wrong and the fix. Checks that need study.toml (is the country configured,
which languages need a text) take what `study.load` could read of it, or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from study.countries import COUNTRIES, is_language, suggest_country, suggest_language
from study.csvrows import name_problem, read_sheet, suggest, suggest_column
from study.errors import Problem
from study.handles import handle_problem
from study.lint import lint_text, longest
from study.model import Scope, Script, Target
from study.service_hours import parse_service_hours

TARGETS_FILE = "targets.csv"
SCRIPTS_FILE = "scripts.csv"
TARGET_COLUMNS = ("brand", "brand_name", "sector", "country", "channel", "handle", "scope")
# service_hours: study.service_hours; answers_from: further handles of the brand on the row's
# channel, space-separated, whose replies count as the brand's.
TARGET_OPTIONAL = ("service_hours", "answers_from")
SCRIPT_COLUMNS = ("script", "category", "language", "text")
SCRIPT_OPTIONAL = ("variant",)  # 1, 2, ...: further wordings for personas (study.assign)

_BRAND = re.compile(r"[a-z0-9_-]+")
_SCRIPT_ID = re.compile(r"[A-Za-z0-9_-]+")
# The longest value each column of targets.csv may hold (a handle: an e-mail address's 254).
TARGET_LIMITS = {
    "brand": 64,
    "brand_name": 100,
    "sector": 100,
    "handle": 254,
    "answers_from": 1000,
}


class Problems:
    """The problems found so far in a study folder, in the order found."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str, line: int | None, message: str) -> None:
        self.items.append(Problem(file, line, message))


def _check_header(
    name: str,
    header: list[str],
    columns: tuple[str, ...],
    line: int,
    out: Problems,
    optional: tuple[str, ...] = (),
) -> bool:
    """Report missing, unknown and repeated columns; whether the rows can be read."""
    missing = [c for c in columns if c not in header]
    shape = f"the header is '{','.join(columns)}'"
    for column in dict.fromkeys(header):
        if header.count(column) > 1:
            out.add(name, line, f"has the column '{column}' twice; keep one")
        if column not in columns and column not in optional:
            meant = suggest_column(column, missing)
            if meant is not None:
                missing.remove(meant)
                out.add(name, line, f"has the column '{column}'; rename it '{meant}' ({shape})")
            else:
                out.add(name, line, f"has an unknown column '{column}'; remove it ({shape})")
    for column in missing:
        out.add(name, line, f"has no column '{column}'; add it ({shape})")
    return all(c in header for c in columns) and len(set(header)) == len(header)


def _read_csv(
    folder: Path,
    name: str,
    columns: tuple[str, ...],
    out: Problems,
    optional: tuple[str, ...] = (),
) -> list[tuple[int, dict[str, str]]] | None:
    """The rows of a CSV file with their physical line numbers, or None if unreadable."""
    file = folder / name
    shape = ",".join(columns)
    if not file.is_file():
        out.add(name, None, f"is missing; create it with the header row '{shape}'")
        return None
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        out.add(name, None, 'is not UTF-8 text; save it as UTF-8 ("CSV UTF-8")')
        return None
    if not text.strip():
        out.add(name, None, f"is empty; start it with the header row '{shape}'")
        return None
    sheet = read_sheet(
        text,
        name,
        columns + optional,
        lambda line, header: _check_header(name, header, columns, line, out, optional),
        out.items,
    )
    return None if sheet is None else sheet.rows


def read_targets(
    folder: Path, out: Problems, countries: dict[str, Any] | None, channels: list[str] | None
) -> tuple[list[Target], set[str]] | None:
    """The valid rows of targets.csv and the country codes named on any row; checks the rows
    against study.toml's countries (code -> language) and channels where they are known."""
    rows = _read_csv(folder, TARGETS_FILE, TARGET_COLUMNS, out, TARGET_OPTIONAL)
    if rows is None:
        return None
    if not rows:
        out.add(TARGETS_FILE, None, "has no targets; add one row per brand, country and channel")
        return None
    targets = []
    named = {row["country"] for _, row in rows}
    names: dict[str, tuple[str, int]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in rows:
        before = len(out.items)

        def bad(message: str, line: int = line) -> None:
            out.add(TARGETS_FILE, line, message)

        brand, country, channel, handle = (
            row[k] for k in ("brand", "country", "channel", "handle")
        )
        unshowable = [p for c, n in TARGET_LIMITS.items() if (p := name_problem(c, row[c], n))]
        for problem in unshowable:
            bad(problem)
        if unshowable:
            continue  # the other checks would quote the value
        if not _BRAND.fullmatch(brand):
            fix = re.sub(r"[^a-z0-9_-]+", "-", brand.lower()).strip("-") or "kaito"
            bad(f"brand '{brand}' is not lower-case letters, digits, '-', '_'; use e.g. '{fix}'")
        first = names.setdefault(brand, (row["brand_name"], line))
        if not row["brand_name"]:
            bad("brand_name is empty; write the brand's name as customers know it")
        elif first[0] != row["brand_name"]:
            bad(
                f"brand '{brand}' is named '{row['brand_name']}' here but '{first[0]}' on line "
                f"{first[1]}; use one brand_name on every row of a brand"
            )
        if country not in COUNTRIES:
            hint = suggest_country(country)
            fix = f"did you mean '{hint}'?" if hint else "use e.g. 'DE'"
            bad(f"country '{country}' is not an ISO 3166-1 alpha-2 code; {fix}")
        elif countries is not None and country not in countries:
            bad(
                f"country '{country}' is not in study.toml; add a [countries.{country}] table "
                "with name, timezone and language"
            )
        if channels is not None and channel not in channels:
            hint = suggest(channel, channels)
            fix = f"did you mean '{hint}'?" if hint else f"add a [channels.{channel}] table"
            bad(f"channel '{channel}' is not in study.toml's [channels]; {fix}")
        scopes = [s.value for s in Scope]
        if row["scope"] not in scopes:
            hint = suggest(row["scope"], scopes)
            fix = f"did you mean '{hint}'?" if hint else "see docs/study-folder.md"
            bad(f"scope '{row['scope']}' is not local, global or none; {fix}")
        elif row["scope"] == Scope.NONE and handle:
            bad(
                f"handle '{handle}' is given but scope is none; empty the handle, or set the "
                "scope to local or global"
            )
        elif row["scope"] != Scope.NONE and not handle:
            bad(
                f"handle is empty but scope is {row['scope']}; add the account's handle, or set "
                "the scope to none if the brand has no account here"
            )
        if handle and (why := handle_problem(channel, handle)):
            bad(f"handle {why}")
        answers_from = tuple(row["answers_from"].split())
        for other in answers_from:
            if why := handle_problem(channel, other):
                bad(f"answers_from {why}")
            elif other.lower() == handle.lower():
                bad(f"answers_from '{other}' is the row's own handle; list only further accounts")
        if answers_from and not handle:
            bad("answers_from is given but the row has no handle; empty it, or add the handle")
        if row["service_hours"]:
            try:
                parse_service_hours(row["service_hours"])
            except ValueError as e:
                bad(f"service_hours {e}")
        key = (brand, country, channel)
        if key in seen:
            bad(
                f"target {brand}, {country}, {channel} is also on line {seen[key]}; keep one "
                "row per brand, country and channel"
            )
        seen.setdefault(key, line)
        if len(out.items) == before:
            scope = Scope(row["scope"])
            targets.append(
                Target(
                    brand,
                    row["brand_name"],
                    row["sector"],
                    country,
                    channel,
                    handle,
                    scope,
                    line,
                    row["service_hours"],
                    answers_from,
                )  # fmt: skip
            )
    return targets, named


def read_scripts(
    folder: Path,
    out: Problems,
    used: dict[str, Any] | None,
    channels: list[str],
    country_names: dict[str, list[str]] | None = None,
    handles: dict[str, list[str]] | None = None,
) -> tuple[Script, ...] | None:
    """The scripts, each with its texts; checks each text with the lint of every channel, and
    that every language `used` (country code -> language) has a text. `country_names` gives
    the names `{country}` can become in each language, where study.toml is known, and
    `handles` the handles each channel's targets use, where targets.csv is: the length
    check fills in the longest of each, as the channel counts them."""
    rows = _read_csv(folder, SCRIPTS_FILE, SCRIPT_COLUMNS, out, SCRIPT_OPTIONAL)
    if rows is None:
        return None
    if not rows:
        out.add(SCRIPTS_FILE, None, "has no scripts; add one row per script and language")
        return None
    texts: dict[str, dict[tuple[str, int], str]] = {}  # script -> (language, variant) -> text
    categories: dict[str, tuple[str, int]] = {}
    languages: dict[str, set[str]] = {}  # of every script, including rows with problems
    seen: dict[tuple[str, str, int], int] = {}
    # The length check's stand-ins, measured once per channel (and language) rather than for
    # every text: a study of 20,000 targets has as many handles.
    longest_handle: dict[str, str | None] = {}
    longest_name: dict[tuple[str, str], str | None] = {}
    for line, row in rows:
        before = len(out.items)
        script, category, language, text = (row[k] for k in SCRIPT_COLUMNS)

        def bad(message: str, line: int = line) -> None:
            out.add(SCRIPTS_FILE, line, message)

        if not _SCRIPT_ID.fullmatch(script):
            fix = re.sub(r"[^A-Za-z0-9_-]+", "-", script).strip("-") or "delivery"
            bad(f"script '{script}' is not letters, digits, '-', '_'; use e.g. '{fix}'")
        first = categories.setdefault(script, (category, line))
        if first[0] != category:
            bad(
                f"script '{script}' has category '{category}' here but '{first[0]}' on line "
                f"{first[1]}; use one category on every row of a script"
            )
        if not is_language(language):
            hint = suggest_language(language)
            fix = f"did you mean '{hint}'?" if hint else "use two lower-case letters, e.g. 'de'"
            bad(f"language '{language}' is not an ISO 639-1 code; {fix}")
        languages.setdefault(script, set()).add(language)
        variant = _variant(row.get("variant") or "1", script, bad)
        if (script, language, variant) in seen:
            keep = "script and language"
            if row.get("variant"):
                keep = "script, language and variant (number further wordings 2, 3, ...)"
            bad(
                f"script '{script}' has a second text in '{language}' (the first is on line "
                f"{seen[script, language, variant]}); keep one row per {keep}"
            )
        seen.setdefault((script, language, variant), line)
        if not text:
            bad(
                f"script '{script}' ({language}) has no text; write the inquiry after '{{handle}} '"
            )
        found = []
        for channel in (channels or [""]) if text else []:
            if channel not in longest_handle:
                longest_handle[channel] = longest(channel, (handles or {}).get(channel, []))
            if (channel, language) not in longest_name:
                names = (country_names or {}).get(language, [])
                longest_name[channel, language] = longest(channel, names)
            found += lint_text(
                text, channel, longest_name[channel, language], longest_handle[channel]
            )
        for problem in dict.fromkeys(found):
            bad(f"script '{script}' ({language}) {problem}")
        if len(out.items) == before:
            texts.setdefault(script, {})[language, variant] = text
    if used is not None:
        users: dict[str, list[str]] = {}
        for code, language in sorted(used.items()):
            if isinstance(language, str) and is_language(language):
                users.setdefault(language, []).append(code)
        for script in sorted(languages):
            for language, codes in sorted(users.items()):
                if language not in languages[script]:
                    out.add(
                        SCRIPTS_FILE,
                        None,
                        f"script '{script}' has no text in '{language}' (used by "
                        f"{', '.join(codes)}); add a row '{script},...,{language},...'",
                    )
    for (script, language, variant), line in sorted(seen.items()):
        if variant > 1 and (script, language, variant - 1) not in seen:
            out.add(
                SCRIPTS_FILE,
                line,
                f"script '{script}' ({language}) has variant {variant} but no variant "
                f"{variant - 1}; number a script's wordings in a language 1, 2, 3, ...",
            )
    return tuple(_script(script, categories[script][0], texts[script]) for script in sorted(texts))


def _variant(value: str, script: str, bad: Callable[[str], None]) -> int:
    """The variant column's number (1 when it is empty); a bad one is reported, taken as 1."""
    if value.isdigit() and value.isascii() and int(value) >= 1:
        return int(value)
    bad(
        f"script '{script}': variant '{value}' is not a whole number >= 1; number a "
        "script's wordings in a language 1, 2, 3, ... (or leave the column empty for 1)"
    )
    return 1


def _script(script: str, category: str, texts: dict[tuple[str, int], str]) -> Script:
    firsts = tuple(sorted((lang, t) for (lang, v), t in texts.items() if v == 1))
    further = tuple((lang, texts[lang, v]) for lang, v in sorted(texts) if v > 1)
    return Script(script, category, firsts, further)
