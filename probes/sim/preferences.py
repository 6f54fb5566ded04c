"""Brand bots' preferences among personas: a brand that answers some personas more often or
sooner than others, so that a simulated audit study has a persona effect to find.

simulator.toml says it per persona attribute and level, for every brand or for one:

```toml
[personas.followers.5000]          # personas whose attribute followers is "5000" ...
answer_rate_change = 0.2           # ... are answered 20 points more often (kept in 0..1)
median_minutes_factor = 0.5        # ... in half the time

[brands.acorn.personas.persona.anna]   # "persona" is the persona's own name
answer_rate_change = -0.3
```

A brand's own table replaces the one for every brand at the same attribute and level; where
several levels of a probe's persona have a preference, all apply, in the order of the file.
A probe's persona is found from its text in the plan (no two personas send a brand the same
text), so a decision stays a pure function of the seed, the text and the handle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # behaviour's SimSettings holds preferences: imported there at run time
    from probes.sim.behaviour import Profile

KEYS = ("answer_rate_change", "median_minutes_factor")
PERSONA = "persona"  # the pseudo-attribute naming the persona itself
_ATTRIBUTE = re.compile(r"[a-z][a-z0-9_]{0,39}")
Where = tuple[str, ...]


@dataclass(frozen=True)
class Preference:
    """How a brand treats the personas with one level of one attribute."""

    attribute: str
    level: str
    answer_rate_change: float = 0.0  # added to the brand's answer rate, kept within 0..1
    median_minutes_factor: float = 1.0  # multiplies the brand's median latency

    def applied(self, profile: Profile) -> Profile:
        rate = min(1.0, max(0.0, profile.answer_rate + self.answer_rate_change))
        return replace(
            profile,
            answer_rate=rate,
            median_minutes=profile.median_minutes * self.median_minutes_factor,
        )


def preferred(
    profile: Profile, preferences: Collection[Preference], sender: Mapping[str, str]
) -> Profile:
    """`profile` as the brand applies it to a probe from a persona with the attributes
    `sender` (its name under "persona")."""
    for p in preferences:
        if sender.get(p.attribute) == p.level:
            profile = p.applied(profile)
    return profile


def for_brand(
    preferences: Mapping[str | None, tuple[Preference, ...]], brand: str | None
) -> tuple[Preference, ...]:
    """The preferences of `brand`: its own, and those for every brand (key None) at the
    attributes and levels it does not state itself."""
    own = preferences.get(brand, ()) if brand is not None else ()
    stated = {(p.attribute, p.level) for p in own}
    general = tuple(p for p in preferences.get(None, ()) if (p.attribute, p.level) not in stated)
    return general + own


def read_preferences(
    table: Any,
    where: Where,
    add: Callable[[Where, str], None],
    attributes: Mapping[str, Collection[str]] | None,
) -> tuple[Preference, ...]:
    """The `[...personas.ATTRIBUTE.LEVEL]` tables under `table` (found at `where`); each
    problem goes to `add` at its place. `attributes`, when given, are the study's persona
    attributes and their levels (PERSONA: the personas' names): others are likely typos."""
    out: list[Preference] = []
    if not isinstance(table, dict):
        add(where, f"{_name(where)} must hold tables [{_name(where)[1:-1]}.ATTRIBUTE.LEVEL]")
        return ()
    for attribute, levels in table.items():
        at = (*where, attribute)
        known = None if attributes is None else attributes.get(attribute)
        if not _ATTRIBUTE.fullmatch(attribute) or (attributes is not None and known is None):
            have = ", ".join(sorted(attributes or ())) or "none"
            add(at, f"{_name(at)}: '{attribute}' is not a persona attribute of the study "
                f"(its attributes: {have}; '{PERSONA}' names the persona)")  # fmt: skip
            continue
        if not isinstance(levels, dict):
            add(at, f"{_name(at)} must hold one table per level, e.g. [{_name(at)[1:-1]}.f]")
            continue
        for level, keys in levels.items():
            sub = (*at, str(level))
            if known is not None and str(level) not in known:
                add(sub, f"{_name(sub)}: no persona has {attribute} = {str(level)!r}; the "
                    f"study has {', '.join(sorted(known))}")  # fmt: skip
                continue
            if (made := _preference(attribute, str(level), keys, sub, add)) is not None:
                out.append(made)
    return tuple(out)


def _preference(
    attribute: str, level: str, keys: Any, where: Where, add: Callable[[Where, str], None]
) -> Preference | None:
    if not isinstance(keys, dict):
        add(where, f"{_name(where)} must be a table with {' or '.join(KEYS)}")
        return None
    good = True
    for key in keys:
        if key not in KEYS:
            good = False
            add((*where, key), f"unknown key '{key}' in {_name(where)}; known keys: "
                f"{', '.join(KEYS)}")  # fmt: skip
    change = keys.get("answer_rate_change", 0.0)
    if not (_number(change) and -1 <= change <= 1):
        good = False
        add((*where, "answer_rate_change"), f"{_name(where)} answer_rate_change must be a "
            f"number between -1 and 1, not {change!r}; e.g. 0.15 for 15 points more")  # fmt: skip
    factor = keys.get("median_minutes_factor", 1.0)
    if not (_number(factor) and factor > 0):
        good = False
        add((*where, "median_minutes_factor"), f"{_name(where)} median_minutes_factor must "
            f"be a number > 0, not {factor!r}; e.g. 0.5 for answers in half the time")  # fmt: skip
    if not good:
        return None
    return Preference(attribute, level, float(change), float(factor))


def _name(where: Where) -> str:
    return "[" + ".".join(where) + "]"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
