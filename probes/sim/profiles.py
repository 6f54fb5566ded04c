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
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any

from study.errors import StudyError
from study.model import WEEKDAYS

FILE = "simulator.toml"
SIMULATED = ("x", "mastodon", "bluesky")  # the channels whose brand bots the simulator runs


@dataclass(frozen=True)
class ServiceHours:
    """When a brand's team works, in the local time of the probe's country."""

    days: frozenset[int]  # 0 = Monday ... 6 = Sunday
    opens: time
    closes: time | None  # exclusive; None means midnight at the end of the day

    @property
    def always(self) -> bool:
        return len(self.days) == 7 and self.opens == time(0) and self.closes is None


@dataclass(frozen=True)
class Profile:
    """One brand's behaviour in one country."""

    answer_rate: float  # chance that a probe gets an answer at all
    median_minutes: float  # median latency of the answer, in service minutes
    sigma: float  # log-normal spread of the latency
    hours: ServiceHours
    redirect_share: float  # of answers: a public "please DM us" instead of an answer
    redirect_dm_rate: float  # of redirects: followed by an answer in a DM
    dm_followup_minutes: float  # median delay of that DM after the redirect
    dm_share: float  # of answers: given by DM only, nothing public
    auto_ack_share: float  # of probes: an immediate automatic acknowledgement
    answers_only: frozenset[str]  # country codes a (global) account answers; empty: all


@dataclass(frozen=True)
class SimSettings:
    """Everything `simulator.toml` says; `profile` resolves one brand in one country."""

    seed: int
    stranger_rate: float  # share of probes that also get a mention from a stranger
    defaults: Profile
    brands: Mapping[str, Mapping[str, Any]]  # brand -> its keys (validated)
    overrides: Mapping[tuple[str, str], Mapping[str, Any]]  # (brand, country) -> keys
    by_channel: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)

    def profile(
        self, brand: str | None, country: str | None = None, channel: str | None = None
    ) -> Profile:
        """The brand's profile in one country on one channel (the layers in order)."""
        merged: dict[str, Any] = {}
        if brand is not None:
            merged.update(self.brands.get(brand, {}))
            if channel is not None:
                merged.update(self.by_channel.get((brand, channel), {}))
            if country is not None:
                merged.update(self.overrides.get((brand, country), {}))
        return _apply(self.defaults, merged)


DEFAULT_PROFILE = Profile(
    answer_rate=0.6,
    median_minutes=180.0,
    sigma=1.0,
    hours=ServiceHours(frozenset(range(5)), time(9), time(18)),
    redirect_share=0.15,
    redirect_dm_rate=0.8,
    dm_followup_minutes=20.0,
    dm_share=0.05,
    auto_ack_share=0.0,
    answers_only=frozenset(),
)
DEFAULT_STRANGER_RATE = 0.05

_SHARES = (
    "answer_rate",
    "redirect_share",
    "redirect_dm_rate",
    "dm_share",
    "auto_ack_share",
)
_POSITIVE = ("median_minutes", "dm_followup_minutes")
_PROFILE_KEYS = (*_SHARES, *_POSITIVE, "sigma", "days", "opens", "closes", "answers_only")
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def default_settings(seed: int) -> SimSettings:
    return SimSettings(seed, DEFAULT_STRANGER_RATE, DEFAULT_PROFILE, {}, {})


def load_settings(
    study_dir: Path,
    *,
    seed: int,
    brands: Collection[str] | None = None,
    countries: Collection[str] | None = None,
    channels: Collection[str] | None = None,
) -> SimSettings:
    """Settings from `study_dir/simulator.toml`, or the defaults when there is none.

    `seed` is the study's seed, used unless the file sets its own. `brands`, `countries`
    and `channels`, when given, are the study's: a table naming any other is reported as a
    likely typo.
    """
    path = study_dir / FILE
    if not path.exists():
        return default_settings(seed)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise StudyError(f"{FILE}: not valid TOML: {e}") from None
    return parse_settings(doc, seed=seed, brands=brands, countries=countries, channels=channels)


def parse_settings(
    doc: Mapping[str, Any],
    *,
    seed: int,
    brands: Collection[str] | None = None,
    countries: Collection[str] | None = None,
    channels: Collection[str] | None = None,
) -> SimSettings:
    """Settings from a parsed `simulator.toml` document (see `load_settings`)."""
    _known(doc, ("simulator", "defaults", "brands"), FILE)
    sim = _table(doc, "simulator", "[simulator]")
    _known(sim, ("seed", "stranger_rate"), "[simulator]")
    if "seed" in sim and (not isinstance(sim["seed"], int) or isinstance(sim["seed"], bool)):
        raise StudyError(f"{FILE}: [simulator] seed must be an integer, not {sim['seed']!r}")
    stranger_rate = _share(sim, "stranger_rate", "[simulator]", DEFAULT_STRANGER_RATE)

    defaults_table = _table(doc, "defaults", "[defaults]")
    _known(defaults_table, _PROFILE_KEYS, "[defaults]")
    defaults = _apply(DEFAULT_PROFILE, _checked(defaults_table, "[defaults]", countries))

    brand_tables: dict[str, Mapping[str, Any]] = {}
    overrides: dict[tuple[str, str], Mapping[str, Any]] = {}
    by_channel: dict[tuple[str, str], Mapping[str, Any]] = {}
    for brand, table in _table(doc, "brands", "[brands]").items():
        where = f"[brands.{brand}]"
        if not isinstance(table, dict):
            raise StudyError(f"{FILE}: {where} must be a table")
        if brands is not None and brand not in brands:
            raise StudyError(f"{FILE}: {where} names a brand that targets.csv does not have")
        _known(table, (*_PROFILE_KEYS, "countries", "channels"), where)
        keys = {k: v for k, v in table.items() if k not in ("countries", "channels")}
        brand_tables[brand] = _checked(keys, where, countries)
        for code, sub in _table(table, "countries", f"{where} countries").items():
            sub_where = f"[brands.{brand}.countries.{code}]"
            if not isinstance(sub, dict):
                raise StudyError(f"{FILE}: {sub_where} must be a table")
            if countries is not None and code not in countries:
                raise StudyError(f"{FILE}: {sub_where} names a country study.toml does not have")
            _known(sub, _PROFILE_KEYS, sub_where)
            overrides[(brand, code)] = _checked(sub, sub_where, countries)
        for name, sub in _table(table, "channels", f"{where} channels").items():
            sub_where = f"[brands.{brand}.channels.{name}]"
            if not isinstance(sub, dict):
                raise StudyError(f"{FILE}: {sub_where} must be a table")
            if name not in SIMULATED:
                raise StudyError(
                    f"{FILE}: {sub_where}: the simulator runs brand bots on "
                    f"{', '.join(SIMULATED)} only, not {name!r}"
                )
            if channels is not None and name not in channels:
                raise StudyError(f"{FILE}: {sub_where} names a channel study.toml does not have")
            _known(sub, _PROFILE_KEYS, sub_where)
            by_channel[(brand, name)] = _checked(sub, sub_where, countries)
    settings = SimSettings(
        seed=int(sim.get("seed", seed)),
        stranger_rate=stranger_rate,
        defaults=defaults,
        brands=brand_tables,
        overrides=overrides,
        by_channel=by_channel,
    )
    # Resolve every layer now, so a bad combination is reported at start, not mid-study.
    layers: list[tuple[str, str | None, str | None]] = [(b, None, None) for b in brand_tables]
    layers += [(b, code, None) for b, code in overrides]
    layers += [(b, None, name) for b, name in by_channel]
    layers += [(b, code, name) for b, code in overrides for c, name in by_channel if c == b]
    for name, country, channel in layers:
        try:
            settings.profile(name, country, channel)
        except StudyError as e:
            where = f"brands.{name}" + (f".channels.{channel}" if channel else "")
            where += f".countries.{country}" if country else ""
            raise StudyError(f"{e} (in [{where}])") from None
    return settings


def _apply(base: Profile, keys: Mapping[str, Any]) -> Profile:
    """`base` with the (already checked) keys of one layer applied."""
    changes: dict[str, Any] = {
        k: v for k, v in keys.items() if k not in ("days", "opens", "closes", "answers_only")
    }
    if "answers_only" in keys:
        changes["answers_only"] = frozenset(keys["answers_only"])
    hours = base.hours
    if "days" in keys:
        hours = replace(hours, days=frozenset(keys["days"]))
    if "opens" in keys:
        hours = replace(hours, opens=keys["opens"])
    if "closes" in keys:
        hours = replace(hours, closes=keys["closes"])
    if hours.closes is not None and hours.closes <= hours.opens:
        raise StudyError(
            f"{FILE}: service hours close ({hours.closes:%H:%M}) before they open "
            f"({hours.opens:%H:%M}); service hours do not cross midnight"
        )
    profile = replace(base, hours=hours, **changes)
    if profile.redirect_share + profile.dm_share > 1:
        raise StudyError(
            f"{FILE}: redirect_share ({profile.redirect_share}) and dm_share "
            f"({profile.dm_share}) are shares of the same answers and add up to more than 1"
        )
    return profile


def _checked(
    table: Mapping[str, Any], where: str, countries: Collection[str] | None
) -> dict[str, Any]:
    """The profile keys of one table, converted and checked (days as weekday numbers)."""
    out: dict[str, Any] = {}
    for key in _SHARES:
        if key in table:
            out[key] = _share(table, key, where, 0.0)
    for key in _POSITIVE:
        if key in table:
            value = table[key]
            if not _number(value) or value <= 0:
                raise StudyError(f"{FILE}: {where} {key} must be a number > 0, not {value!r}")
            out[key] = float(value)
    if "sigma" in table:
        value = table["sigma"]
        if not _number(value) or value < 0:
            raise StudyError(f"{FILE}: {where} sigma must be a number >= 0, not {value!r}")
        out["sigma"] = float(value)
    if "days" in table:
        days = table["days"]
        if days == "all":
            days = list(WEEKDAYS)
        if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
            raise StudyError(
                f'{FILE}: {where} days must be "all" or a list of mon..sun, not {days!r}'
            )
        out["days"] = [WEEKDAYS.index(d) for d in days]
    for key in ("opens", "closes"):
        if key in table:
            out[key] = _clock_time(table[key], where, key)
    if "answers_only" in table:
        codes = table["answers_only"]
        if not isinstance(codes, list) or any(not isinstance(c, str) for c in codes):
            raise StudyError(f"{FILE}: {where} answers_only must be a list of country codes")
        out["answers_only"] = [c.upper() for c in codes]
        for code in out["answers_only"]:
            if countries is not None and code not in countries:
                raise StudyError(f"{FILE}: {where} answers_only: {code!r} is not in study.toml")
    return out


def _clock_time(value: Any, where: str, key: str) -> time | None:
    m = _HHMM.match(value) if isinstance(value, str) else None
    if m is None or (m.group(1) == "24" and m.group(2) != "00"):
        raise StudyError(f'{FILE}: {where} {key} must be "HH:MM" (24:00 allowed), not {value!r}')
    if m.group(1) == "24":
        if key == "opens":
            raise StudyError(f"{FILE}: {where} opens cannot be 24:00")
        return None
    return time(int(m.group(1)), int(m.group(2)))


def _share(table: Mapping[str, Any], key: str, where: str, default: float) -> float:
    value = table.get(key, default)
    if not _number(value) or not 0 <= value <= 1:
        raise StudyError(f"{FILE}: {where} {key} must be a share between 0 and 1, not {value!r}")
    return float(value)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _table(doc: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise StudyError(f"{FILE}: {where} must be a table")
    return value


def _known(table: Mapping[str, Any], keys: Collection[str], where: str) -> None:
    for key in table:
        if key not in keys:
            raise StudyError(
                f"{FILE}: {where} has an unknown key {key!r}; known keys: {', '.join(keys)}"
            )
