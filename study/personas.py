"""The probe accounts of a study as personas: the `[personas.NAME]` tables of study.toml and
the `[assignment]` table that says how probes are shared among them (docs/personas.md).

A persona is one account on one channel, run by one researcher: its channel, its account and
credentials (any key of the channel's table, which gives the defaults), its own caps, and free
attributes (`country`, `language`, `gender`, `name_signal`, `followers`, ...) that the
analysis groups by. A study without personas has one per channel, named after the channel
(`personas_of`): its plan, journal and digest are what they were before personas existed.

`study.load` calls `read_personas` and `read_assignment` with its checker, so problems are
reported at the key's line like every other problem of study.toml.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from study.countries import COUNTRIES, is_language, suggest_country, suggest_language
from study.load_channels import (
    CHANNEL_KINDS,
    CHANNEL_RULES,
    CREDENTIAL_SCHEMES,
    Rule,
    channel_problems,
    channel_settings,
    is_int,
    is_number,
    is_text,
)
from study.model import ChannelSettings, Study
from study.plan_text import mention

__all__ = [
    "BALANCED",
    "BY_COUNTRY",
    "DESIGNS",
    "Assignment",
    "Persona",
    "personas_of",
    "read_assignment",
    "read_personas",
]

BY_COUNTRY = "by_country"  # each country's brands asked by that country's persona(s)
BALANCED = "balanced"  # every brand asked by each persona equally often (an audit design)
DESIGNS = (BY_COUNTRY, BALANCED)

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_ATTRIBUTE = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Persona:
    """One probe account: who asks, from which account, within which caps."""

    name: str
    channel: str
    settings: ChannelSettings  # the channel's settings with this persona's account and keys
    attributes: tuple[tuple[str, str], ...] = ()  # (key, value as text), sorted by key
    max_probes: int | None = None  # the most this account sends in the whole study
    max_probes_per_day: int | None = None  # ... per UTC day
    min_spacing_hours: float = 0.0  # between two sends of this account
    declared: bool = True  # False: a channel's one account in a study without personas

    @property
    def account(self) -> str:
        return self.settings.account

    def attribute(self, key: str) -> str | None:
        return dict(self.attributes).get(key)

    @property
    def country(self) -> str | None:
        return self.attribute("country")

    @property
    def table(self) -> str:
        """The study.toml table that holds its keys, for messages: "[personas.anna]", or a
        channel's own "[channels.x]" for its one account in a study without personas."""
        return f"[personas.{self.name}]" if self.declared else f"[channels.{self.channel}]"

    def describe(self) -> str:
        """How messages name it: "persona anna (x account @anna_probe)"."""
        account = f" account {mention(self.channel, self.account)}" if self.account else ""
        return f"persona {self.name} ({self.channel}{account})"


@dataclass(frozen=True)
class Assignment:
    """How probes are shared among the personas of a channel (study.assign)."""

    design: str  # BY_COUNTRY or BALANCED
    max_per_brand: int | None = None  # inquiries one persona sends one brand, at most


def personas_of(study: Study) -> tuple[Persona, ...]:
    """Every account that sends the study's probes, sorted by name: the declared personas,
    and for each channel that has none, its one account (named after the channel)."""
    declared = {p.channel for p in study.personas}
    settings = {c.name: c for c in study.channels}
    for t in study.targets:  # a channel's table is checked by study.load, not needed here
        settings.setdefault(t.channel, ChannelSettings(t.channel, "", "", ""))
    implicit = tuple(
        Persona(name, name, c, declared=False)
        for name, c in settings.items()
        if name not in declared
    )
    return tuple(sorted(study.personas + implicit, key=lambda p: p.name))


class Checker(Protocol):
    """What `study.load` offers to report a problem at a key's line of study.toml."""

    def problem(self, path: tuple[str, ...], message: str) -> None: ...

    def keys(
        self, table: dict[str, Any], path: tuple[str, ...], rules: dict[str, Rule]
    ) -> dict[str, Any] | None: ...


_OWN_RULES = {
    "channel": Rule(
        "the name of one of the study's [channels.*] tables",
        "e.g. \"x\"; the channel's table gives the defaults of the persona's keys",
        is_text,
    ),
    "max_probes": Rule(
        "a whole number >= 1",
        "cap the probes this account sends in the whole study, or leave the key out",
        lambda v: is_int(v) and v >= 1,
        optional=True,
    ),
    "max_probes_per_day": Rule(
        "a whole number >= 1",
        "cap the probes this account sends per UTC day, or leave the key out",
        lambda v: is_int(v) and v >= 1,
        optional=True,
    ),
    "min_spacing_hours": Rule(
        "a number of hours >= 0",
        "set the least time between two sends of this account, e.g. 0.5",
        lambda v: is_number(v) and v >= 0,
        optional=True,
        default="0",
    ),
}
_ASSIGNMENT = {
    "design": Rule(
        f"one of {', '.join(DESIGNS)}",
        f'write "{BY_COUNTRY}" (each country\'s brands asked by its own personas) or '
        f'"{BALANCED}" (every brand asked by each persona equally often)',
        lambda v: v in DESIGNS,
    ),
    "max_per_brand": Rule(
        "a whole number >= 1",
        "cap the inquiries one persona sends one brand, e.g. 2, or leave the key out",
        lambda v: is_int(v) and v >= 1,
        optional=True,
    ),
}


def _attribute_problem(key: str, value: object) -> str | None:
    """Why `value` cannot be the free attribute `key` of a persona, with the fix, or None."""
    if not isinstance(value, str | int | float | bool) or value == "":
        return f'{key} must be a text, a number or true/false, not {value!r}; e.g. {key} = "f"'
    if key == "country" and (not isinstance(value, str) or value not in COUNTRIES):
        hint = suggest_country(str(value))
        fix = f"did you mean '{hint}'?" if hint else "use an ISO 3166-1 alpha-2 code, e.g. 'DE'"
        return f"country {value!r} is not an ISO 3166-1 alpha-2 code; {fix}"
    if key == "language" and (not isinstance(value, str) or not is_language(value)):
        hint = suggest_language(str(value))
        fix = f"did you mean '{hint}'?" if hint else "use two lower-case letters, e.g. 'de'"
        return f"language {value!r} is not an ISO 639-1 code; {fix}"
    if key == "followers" and not (is_int(value) and int(value) >= 0):
        return (
            f"followers must be a whole number >= 0, not {value!r}; write the account's "
            "follower count when the study is set up (the runner records it at each send "
            "where the platform shows it)"
        )
    return None


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def read_personas(
    data: Mapping[str, Any], check: Checker, channels: tuple[ChannelSettings, ...]
) -> tuple[Persona, ...] | None:
    """The `[personas.NAME]` tables of the parsed study.toml (`data`), each merged with its
    channel's table; () when there are none, None when any has a problem (reported)."""
    if "personas" not in data:
        return ()
    tables = data["personas"]
    if not isinstance(tables, dict) or not tables:
        check.problem(
            ("personas",),
            "personas must hold one [personas.NAME] table per probe account, e.g. "
            '[personas.anna] with channel = "x" and account = "anna_probe"',
        )
        return None
    raw_channels = data.get("channels") if isinstance(data.get("channels"), dict) else {}
    valid = {c.name for c in channels}
    made: list[Persona] = []
    good = True
    for name, table in tables.items():
        persona = _persona(name, table, check, raw_channels or {}, valid)
        good = good and persona is not None
        if persona is not None:
            made.append(persona)
    if not good:
        return None
    seen: dict[tuple[str, str], str] = {}
    for p in sorted(made, key=lambda p: p.name):
        key = (p.channel, p.account.lower())
        if p.account and key in seen:
            good = False
            check.problem(
                ("personas", p.name),
                f"personas {seen[key]} and {p.name} both send from {p.channel} account "
                f"{mention(p.channel, p.account)}; give each persona its own account "
                "(account = ...): one account per persona is what keeps caps and the "
                "platforms' limits per account",
            )
        seen.setdefault(key, p.name)
    return tuple(sorted(made, key=lambda p: p.name)) if good else None


def _persona(
    name: str,
    table: object,
    check: Checker,
    raw_channels: Mapping[str, Any],
    valid: set[str],
) -> Persona | None:
    path = ("personas", name)
    if not isinstance(table, dict):
        check.problem(path, f"personas.{name} must be a table; write [personas.{name}]")
        return None
    if not _NAME.fullmatch(name):
        fix = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")[:40] or "anna"
        check.problem(
            path,
            f"persona '{name}' is not a name of lower-case letters, digits, '-' and '_' "
            f"(at most 40); call it e.g. '{fix}'",
        )
        return None
    if name in CHANNEL_KINDS:
        check.problem(
            path,
            f"persona '{name}' is named like a channel, and a channel's name stands for its "
            f"one account in a study without personas; call it e.g. '{name}-{name}1'",
        )
        return None
    kind = table.get("channel")
    if not isinstance(kind, str) or kind not in CHANNEL_KINDS:
        given = {"channel": kind} if "channel" in table else {}
        check.keys(given, path, {"channel": _OWN_RULES["channel"]})
        if isinstance(kind, str) and kind:
            check.problem(
                path + ("channel",),
                f"persona '{name}': channel '{kind}' is not a channel kind; use one of "
                f"{', '.join(CHANNEL_KINDS)}",
            )
        return None
    if kind not in raw_channels:
        check.problem(
            path + ("channel",),
            f"persona '{name}': the study has no [channels.{kind}] table; add one (its keys "
            "are the defaults of its personas' keys)",
        )
        return None
    if kind not in valid:
        return None  # the channel's table has problems of its own, reported there
    channel_rules = {k: replace(r, optional=True) for k, r in CHANNEL_RULES[kind].items()}
    rules = {**_OWN_RULES, **channel_rules}
    known = {k: v for k, v in table.items() if k in rules}
    attributes = {k: v for k, v in table.items() if k not in rules}
    values = check.keys(known, path, rules)
    good = values is not None
    for key, value in attributes.items():
        meant = difflib.get_close_matches(key, list(rules), n=1, cutoff=0.8)
        why = None
        if meant:
            why = (
                f"'{key}' is not a key of a {kind} persona; did you mean '{meant[0]}'? "
                "(free attributes must not look like settings)"
            )
        elif not _ATTRIBUTE.fullmatch(key):
            why = (
                f"attribute '{key}' is not lower-case letters, digits and '_' (starting "
                "with a letter); rename it"
            )
        else:
            why = _attribute_problem(key, value)
        if why is not None:
            good = False
            check.problem(path + (key,), f"persona '{name}': {why}")
    if values is None or not good:
        return None
    own = {k: v for k, v in values.items() if k in channel_rules}
    base = raw_channels[kind]
    if any(_is_credential(kind, k) for k in own):
        # A persona that names its credential inherits the channel's keys of that scheme only
        # (X's app keys under OAuth 1.0a), not another scheme's, which would sign its requests.
        schemes = CREDENTIAL_SCHEMES.get(kind, ())
        mine = {k for scheme in schemes if own.keys() & set(scheme) for k in scheme}
        base = {k: v for k, v in base.items() if not _is_credential(kind, k) or k in mine}
    merged = {**base, **own}
    for key, message in channel_problems(kind, merged):
        good = False
        check.problem(path + (key,), f"persona '{name}': {message}")
    if not good:
        return None
    return Persona(
        name=name,
        channel=kind,
        settings=channel_settings(kind, merged),
        attributes=tuple(sorted((k, _text(v)) for k, v in attributes.items())),
        max_probes=values.get("max_probes"),
        max_probes_per_day=values.get("max_probes_per_day"),
        min_spacing_hours=float(values.get("min_spacing_hours", 0)),
    )


def read_assignment(data: Mapping[str, Any], check: Checker) -> Assignment | None:
    """The `[assignment]` table, or None when it is absent or has problems (reported)."""
    table = data.get("assignment")
    if table is None:
        return None
    if not isinstance(table, dict):
        check.problem(("assignment",), "assignment must be a table; write [assignment]")
        return None
    values = check.keys(table, ("assignment",), _ASSIGNMENT)
    if values is None:
        return None
    return Assignment(values["design"], values.get("max_per_brand"))


def _is_credential(kind: str, key: str) -> bool:
    """Whether `key` of a `[channels.KIND]` table names a credential's variable."""
    rule = CHANNEL_RULES[kind].get(key)
    return rule is not None and rule.secret
