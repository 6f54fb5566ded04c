"""How each brand's bot behaves, read from the study folder's optional `simulator.toml`.

Layers, each overriding the one before: `[defaults]`, `[brands.BRAND]`,
`[brands.BRAND.channels.CHANNEL]` (how the brand's team works on one channel: its e-mail desk
may be slower than its social team) and `[brands.BRAND.countries.CC]`. Every key is optional;
a missing file gives the defaults below.
The format is documented in docs/simulator.md.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import Any, Literal

from probes.sim.behaviour import (
    DEFAULT_PROFILE,
    DEFAULT_STRANGER_RATE,
    Profile,
    ServiceHours,
    SimSettings,
    apply_layer,
    default_settings,
)
from probes.sim.mastodon.policy import parse_policy
from probes.sim.preferences import PERSONA, Preference, read_preferences
from probes.sim.toml_check import FILE, Check, Path_, table_name
from study.errors import Problem, StudyError, StudyProblems
from study.model import WEEKDAYS, Study
from study.personas import personas_of
from study.toml_lines import TomlLines, error_line

SIMULATED = ("x", "mastodon", "bluesky")  # the channels whose brand bots the simulator runs
__all__ = [  # the behaviour model is re-exported: its users import it from here
    "DEFAULT_PROFILE",
    "DEFAULT_STRANGER_RATE",
    "FILE",
    "SIMULATED",
    "Profile",
    "ServiceHours",
    "SimSettings",
    "default_settings",
    "load_settings",
    "parse_settings",
    "settings_problems",
    "study_problems",
    "study_settings",
]


_SHARES = (
    "answer_rate",
    "redirect_share",
    "redirect_dm_rate",
    "dm_share",
    "auto_ack_share",
    "answer_from_share",
)
_POSITIVE = ("median_minutes", "dm_followup_minutes")
_PROFILE_KEYS = (
    *_SHARES, *_POSITIVE, "sigma", "days", "opens", "closes", "answers_only", "answer_from"
)  # fmt: skip
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def settings_problems(
    study_dir: Path,
    *,
    seed: int,
    brands: Collection[str] | None = None,
    countries: Collection[str] | None = None,
    channels: Collection[str] | None = None,
    attributes: Mapping[str, Collection[str]] | None = None,
) -> tuple[SimSettings | None, list[Problem]]:
    """The settings in `study_dir/simulator.toml` (the defaults when there is none), or None
    and every problem in the file, each at its line (`validate` reports them with the rest).

    `seed` is the study's seed, used unless the file sets its own. `brands`, `countries`
    and `channels`, when given, are the study's: a table naming any other is reported as a
    likely typo.
    """
    path = study_dir / FILE
    if not path.exists():
        return default_settings(seed), []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(FILE, None, "is not UTF-8 text; save it as UTF-8")]
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        line = error_line(e, text)
        return None, [Problem(FILE, line, f"is not valid TOML ({e}); fix the syntax on this line")]
    check = Check(TomlLines(text), brands, countries, channels, attributes)
    settings = _parse(doc, seed, check)
    return (settings, []) if not check.problems else (None, check.problems)


def load_settings(
    study_dir: Path,
    *,
    seed: int,
    brands: Collection[str] | None = None,
    countries: Collection[str] | None = None,
    channels: Collection[str] | None = None,
    attributes: Mapping[str, Collection[str]] | None = None,
) -> SimSettings:
    """Settings from `study_dir/simulator.toml`, or the defaults when there is none; raises
    `StudyProblems` listing every problem (see `settings_problems`)."""
    settings, problems = settings_problems(
        study_dir, seed=seed, brands=brands, countries=countries, channels=channels,
        attributes=attributes,
    )  # fmt: skip
    if settings is None:
        raise StudyProblems(problems)
    return settings


def study_settings(study: Study) -> SimSettings:
    """The settings of `study`'s simulator.toml, checked against its brands, countries and
    channels (what `replybench sim` serves)."""
    return load_settings(study.path, seed=study.seed, **_names(study))


def study_problems(folder: Path, study: Study | None) -> list[Problem]:
    """Every problem of the folder's simulator.toml (for `validate`): checked against the
    study's brands, countries and channels when the study is sound, on its own when not."""
    names = _names(study) if study is not None else {}
    seed = study.seed if study is not None else 0
    return settings_problems(folder, seed=seed, **names)[1]


def _names(study: Study) -> dict[str, Any]:
    attributes: dict[str, set[str]] = {PERSONA: set()}
    for p in personas_of(study):
        attributes[PERSONA].add(p.name)
        for key, value in p.attributes:
            attributes.setdefault(key, set()).add(value)
    return {
        "brands": {t.brand for t in study.targets},
        "countries": {c.code for c in study.countries},
        "channels": {c.name for c in study.channels},
        "attributes": attributes,
    }


def parse_settings(
    doc: Mapping[str, Any],
    *,
    seed: int,
    brands: Collection[str] | None = None,
    countries: Collection[str] | None = None,
    channels: Collection[str] | None = None,
    attributes: Mapping[str, Collection[str]] | None = None,
) -> SimSettings:
    """Settings from a parsed `simulator.toml` document (see `load_settings`)."""
    check = Check(None, brands, countries, channels, attributes)
    settings = _parse(doc, seed, check)
    if settings is None:
        raise StudyProblems(check.problems)
    return settings


def _parse(doc: Mapping[str, Any], seed: int, check: Check) -> SimSettings | None:
    """The settings of a parsed document, or None when `check` has found problems."""
    check.known(doc, ("simulator", "defaults", "brands", "mastodon", "personas"), ())
    mastodon = check.table(doc, ("mastodon",))
    check.known(mastodon, ("notification_policy",), ("mastodon",))
    at = ("mastodon", "notification_policy")
    policy_table = check.table(mastodon, at)
    policy = parse_policy(policy_table, lambda key, said: check.add((*at, key), said))
    preferences: dict[str | None, tuple[Preference, ...]] = {}
    if "personas" in doc:
        preferences[None] = read_preferences(
            doc["personas"], ("personas",), check.add, check.attributes
        )
    sim = check.table(doc, ("simulator",))
    check.known(sim, ("seed", "stranger_rate"), ("simulator",))
    if "seed" in sim and (not isinstance(sim["seed"], int) or isinstance(sim["seed"], bool)):
        check.add(
            ("simulator", "seed"),
            f"[simulator] seed must be a whole number, not {sim['seed']!r}; e.g. 7, or leave "
            "it out to use the study's seed",
        )
    stranger_rate = _share(sim, "stranger_rate", ("simulator",), DEFAULT_STRANGER_RATE, check)

    defaults_table = check.table(doc, ("defaults",))
    check.known(defaults_table, _PROFILE_KEYS, ("defaults",))
    defaults_keys = _checked(defaults_table, ("defaults",), check)

    brand_tables: dict[str, Mapping[str, Any]] = {}
    overrides: dict[tuple[str, str], Mapping[str, Any]] = {}
    by_channel: dict[tuple[str, str], Mapping[str, Any]] = {}
    all_brands = check.table(doc, ("brands",))
    for brand in all_brands:
        where = ("brands", brand)
        table = check.table(all_brands, where)
        said = f"{table_name(where)} names a brand that targets.csv does not have"
        if not check.named(brand, check.brands, where, said):
            continue
        check.known(table, (*_PROFILE_KEYS, "countries", "channels", "personas"), where)
        keys = {k: v for k, v in table.items() if k not in ("countries", "channels", "personas")}
        if "personas" in table:
            preferences[brand] = read_preferences(
                table["personas"], (*where, "personas"), check.add, check.attributes
            )
        brand_tables[brand] = _checked(keys, where, check)
        in_countries = check.table(table, (*where, "countries"))
        for code in in_countries:
            sub = (*where, "countries", code)
            layer = check.table(in_countries, sub)
            said = f"{table_name(sub)} names a country study.toml does not have"
            if check.named(code, check.countries, sub, said):
                check.known(layer, _PROFILE_KEYS, sub)
                overrides[(brand, code)] = _checked(layer, sub, check)
        on_channels = check.table(table, (*where, "channels"))
        for name in on_channels:
            sub = (*where, "channels", name)
            layer = check.table(on_channels, sub)
            if name not in SIMULATED:
                check.add(
                    sub,
                    f"{table_name(sub)}: the simulator runs brand bots on {', '.join(SIMULATED)} "
                    f"only, not {name!r}; remove the table",
                )
            elif check.named(
                name,
                check.channels,
                sub,
                f"{table_name(sub)} names a channel study.toml does not have",
            ):
                check.known(layer, _PROFILE_KEYS, sub)
                by_channel[(brand, name)] = _checked(layer, sub, check)
    settings = SimSettings(
        seed=int(sim.get("seed", seed)) if isinstance(sim.get("seed", seed), int) else seed,
        stranger_rate=DEFAULT_STRANGER_RATE if stranger_rate is None else stranger_rate,
        defaults=DEFAULT_PROFILE,
        brands=brand_tables,
        overrides=overrides,
        by_channel=by_channel,
        mastodon_policy=policy if policy_table else None,
        preferences=preferences,
    )
    # Resolve every layer now, so a bad combination (service hours, shares) is reported with
    # the rest, not mid-study: each at the most general layer it appears in, and only where
    # the keys themselves are good (one mistake, one problem).
    if check.spoils(None, None, None):
        return None
    try:
        settings = replace(settings, defaults=apply_layer(DEFAULT_PROFILE, defaults_keys))
    except StudyError as e:
        check.add(("defaults",), f"[defaults]: {e}")
        return None
    layers: list[tuple[str, str | None, str | None]] = [(b, None, None) for b in brand_tables]
    layers += [(b, c, None) for b, c in overrides]
    layers += [(b, None, ch) for b, ch in by_channel]
    layers += [(b, c, ch) for b, c in overrides for b2, ch in by_channel if b2 == b]
    failed: set[tuple[str, str | None, str | None]] = set()
    for brand, country, channel in layers:
        parents = {(brand, None, None), (brand, country, None), (brand, None, channel)}
        if parents & failed or check.spoils(brand, country, channel):
            continue
        try:
            settings.profile(brand, country, channel)
        except StudyError as e:
            failed.add((brand, country, channel))
            path: Path_ = ("brands", brand)
            path += ("countries", country) if country else ("channels", channel) if channel else ()
            label = f"brands.{brand}" + (f".channels.{channel}" if channel else "")
            label += f".countries.{country}" if country else ""
            check.add(path, f"[{label}]: {e}")
    return None if check.problems else settings


def _checked(table: Mapping[str, Any], path: Path_, check: Check) -> dict[str, Any]:
    """The good profile keys of one table, converted (days as weekday numbers); each bad one
    is reported to `check` and left out."""
    where = table_name(path)
    out: dict[str, Any] = {}
    for key in _SHARES:
        if key in table and (share := _share(table, key, path, 0.0, check)) is not None:
            out[key] = share
    for key in (k for k in _POSITIVE if k in table):
        value = table[key]
        if _number(value) and value > 0:
            out[key] = float(value)
        else:
            check.add((*path, key), f"{where} {key} must be a number > 0, not {value!r}; e.g. 180")
    if "sigma" in table:
        value = table["sigma"]
        if _number(value) and value >= 0:
            out["sigma"] = float(value)
        else:
            check.add(
                (*path, "sigma"),
                f"{where} sigma must be a number >= 0, not {value!r}; e.g. 1.0 (0: no spread)",
            )
    if "days" in table:
        days = list(WEEKDAYS) if table["days"] == "all" else table["days"]
        if isinstance(days, list) and days and all(d in WEEKDAYS for d in days):
            out["days"] = [WEEKDAYS.index(d) for d in days]
        else:
            check.add(
                (*path, "days"),
                f'{where} days must be "all" or a list of mon..sun, not {table["days"]!r}; '
                'e.g. ["mon", "tue", "wed", "thu", "fri"]',
            )
    for key in ("opens", "closes"):
        if key in table and (at := _clock_time(table[key], path, key, check)) is not False:
            out[key] = at
    if "answer_from" in table:
        if isinstance(h := table["answer_from"], str) and re.fullmatch(r"([^\s@]\S*)?", h):
            out["answer_from"] = h
        else:
            why = f"{where} answer_from must be a handle without '@', e.g. 'KaitoCare'"
            check.add((*path, "answer_from"), why)
    if "answers_only" in table:
        codes = table["answers_only"]
        if not isinstance(codes, list) or any(not isinstance(c, str) for c in codes):
            check.add(
                (*path, "answers_only"),
                f'{where} answers_only must be a list of country codes, e.g. ["DE", "US"]',
            )
        else:
            upper = [c.upper() for c in codes]
            said = f"{where} answers_only: {{!r}} is not a country of study.toml"
            codes_at = (*path, "answers_only")
            if all([check.named(c, check.countries, codes_at, said.format(c)) for c in upper]):
                out["answers_only"] = upper
    return out


def _clock_time(value: Any, path: Path_, key: str, check: Check) -> time | None | Literal[False]:
    """The time "HH:MM" means (None: 24:00, the end of the day); False when it is bad."""
    where = table_name(path)
    m = _HHMM.match(value) if isinstance(value, str) else None
    if m is None or (m.group(1) == "24" and m.group(2) != "00"):
        check.add(
            (*path, key),
            f'{where} {key} must be "HH:MM" (24:00 allowed), not {value!r}; e.g. "09:00"',
        )
        return False
    if m.group(1) == "24":
        if key == "opens":
            check.add((*path, key), f"{where} opens cannot be 24:00; open at 00:00 or later")
            return False
        return None
    return time(int(m.group(1)), int(m.group(2)))


def _share(
    table: Mapping[str, Any], key: str, path: Path_, default: float, check: Check
) -> float | None:
    value = table.get(key, default)
    if _number(value) and 0 <= value <= 1:
        return float(value)
    check.add(
        (*path, key),
        f"{table_name(path)} {key} must be a share between 0 and 1, not {value!r}; e.g. 0.25",
    )
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
