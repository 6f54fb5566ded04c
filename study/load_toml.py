"""The checker of study.toml's tables: each key against its rule, slots, channels and
countries, reporting every problem at the line `TomlLines` found (study.load drives it)."""

from __future__ import annotations

import difflib
import re
import zoneinfo
from datetime import time
from functools import cache
from typing import Any

from study.countries import COUNTRIES, is_language, suggest_country, suggest_language
from study.csvrows import name_problem, suggest
from study.load_channels import (
    CHANNEL_KINDS,
    CHANNEL_RULES,
    Rule,
    channel_problems,
    channel_settings,
    is_text,
)
from study.load_tables import Problems
from study.model import WEEKDAYS, ChannelSettings, Country, Slot
from study.toml_lines import TomlLines

TOML_FILE = "study.toml"

_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")

SLOT_RULES = {
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
COUNTRY_RULES = {
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


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    text = repr(value) if isinstance(value, str | list) else str(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text):,} characters)"


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class TomlCheck:
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
        good = self.keys(table, path, SLOT_RULES) is not None
        days = table.get("days", [])
        for day in days if SLOT_RULES["days"].ok(days) else []:
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
        good = self.keys(table, path, COUNTRY_RULES) is not None and good
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
