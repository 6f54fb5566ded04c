"""Which persona asks each probe, and in which wording: the study's assignment design.

`by_country` (the UXalliance design): each country's brands are asked by that country's
personas (their `country` attribute); several personas of a country take turns from round to
round, the first one drawn per country from the seed and moving on one per brand, so they
share the work evenly. `balanced` (an audit design, e.g. Edelman, Luca and Svirsky 2017):
every brand is asked by each persona of its pool equally often, in an order drawn afresh
for each brand and block of rounds, so a persona is tied to no round, slot or script; a
persona's pool is every persona of the channel whose country is the target's, or that has no
country. A channel with one persona (a study without personas included) needs no design.

Wordings: X's developer rules forbid identical or similar content across accounts
(https://developer.x.com/en/developer-terms/more-on-restricted-use-cases, "Automation"),
so the personas that post one script in one language on a channel each get their own
wording (scripts.csv's `variant` column) in name order; `assignment_problems` names the
scripts that need more. The assignment is a pure function of the study and its seed.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from study.errors import Problem, StudyError, StudyProblems
from study.model import Study, Target
from study.personas import BALANCED, BY_COUNTRY, Persona, personas_of
from study.plan_text import mention

__all__ = ["CROSS_ACCOUNT_DUPLICATES", "Choice", "assign", "assignment_problems", "seeded"]

# Channels whose platform refuses identical or similar content posted from several accounts.
CROSS_ACCOUNT_DUPLICATES = frozenset({"x"})

Key = tuple[str, str, str, int]  # (brand, country, channel, round): one probe


@dataclass(frozen=True)
class Choice:
    """Who asks one probe and in which wording."""

    persona: str  # "" for a channel's one account in a study without personas
    variant: int = 0  # the script's wording, 0-based (study.model.Script.text)


def seeded(seed: int, *parts: str) -> random.Random:
    """A generator seeded from the study seed and stable strings (never the salted hash())."""
    key = "\x1f".join([str(seed), *parts]).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def assign(study: Study) -> dict[Key, Choice]:
    """The persona and wording of every probe of the study; raises `StudyProblems` for what
    `assignment_problems` finds."""
    problems = assignment_problems(study)
    if problems:
        raise StudyProblems(problems)
    return _assign(study)[0]


def assignment_problems(study: Study) -> list[Problem]:
    """Reasons the personas cannot share the probes as designed, with what to change."""
    return _assign(study)[1]


def _assign(study: Study) -> tuple[dict[Key, Choice], list[Problem]]:
    personas = personas_of(study)
    problems: list[Problem] = []
    by_channel: dict[str, list[Persona]] = defaultdict(list)
    for p in personas:
        by_channel[p.channel].append(p)
    targets = sorted(study.probed_targets, key=lambda t: (t.channel, t.country, t.brand))
    design = study.assignment.design if study.assignment else None
    for channel in sorted({t.channel for t in targets}):
        names = [p.name for p in by_channel.get(channel, [])]
        if len(names) > 1 and design is None:
            problems.append(
                Problem(
                    "study.toml",
                    None,
                    f"{len(names)} personas post on {channel} ({', '.join(names)}) but there "
                    f'is no [assignment] table; add one with design = "{BY_COUNTRY}" or '
                    f'"{BALANCED}" (docs/personas.md)',
                )
            )
    if problems:
        return {}, problems
    chosen: dict[Key, str] = {}
    rounds = study.probes_per_target
    turns: Counter[tuple[str, str]] = Counter()  # (channel, country): targets seen so far
    for t in targets:
        everyone = by_channel.get(t.channel, [])
        pool = everyone if len(everyone) == 1 else _pool(everyone, t, design)
        if not pool:
            problems.append(_no_pool(t, design, everyone))
            continue
        names = [p.name for p in pool]
        if design == BALANCED and len(pool) > 1:
            if rounds % len(pool):
                problems.append(_unbalanced(study, t, names))
                continue
            for block in range(rounds // len(pool)):
                order = list(names)
                seeded(study.seed, "persona", t.brand, t.country, t.channel, str(block)).shuffle(
                    order
                )
                for i, name in enumerate(order):
                    chosen[t.brand, t.country, t.channel, block * len(pool) + i + 1] = name
        else:
            start = seeded(study.seed, "persona", t.channel, t.country).randrange(len(pool))
            start += turns[t.channel, t.country]
            turns[t.channel, t.country] += 1
            for r in range(rounds):
                chosen[t.brand, t.country, t.channel, r + 1] = names[(start + r) % len(pool)]
    problems += _cap_problems(study, personas, chosen)
    choices, wording = _wordings(study, personas, chosen)
    return choices, problems + wording


def _pool(everyone: list[Persona], target: Target, design: str | None) -> list[Persona]:
    if design == BY_COUNTRY:
        return [p for p in everyone if p.country == target.country]
    return [p for p in everyone if p.country in (None, target.country)]


def _where(target: Target) -> str:
    return f"targets.csv line {target.line}" if target.line else "targets.csv"


def _no_pool(target: Target, design: str | None, everyone: list[Persona]) -> Problem:
    need = f'country = "{target.country}"'
    if design == BALANCED:
        need += " (or no country, to ask in every country)"
    return Problem(
        "targets.csv",
        target.line or None,
        f"{target.brand} in {target.country} on {target.channel}: no persona of "
        f"{target.channel} can ask it under design {design} (the personas of {target.channel}: "
        f"{', '.join(p.name for p in everyone) or 'none'}); add a [personas.NAME] table with "
        f'channel = "{target.channel}" and {need}',
    )


def _unbalanced(study: Study, target: Target, names: list[str]) -> Problem:
    k = len(names)
    lower, higher = study.probes_per_target // k * k, (study.probes_per_target // k + 1) * k
    fix = f"set probes_per_target to {higher}" + (f" or {lower}" if lower else "")
    return Problem(
        "study.toml",
        None,
        f"design balanced: {target.brand} in {target.country} on {target.channel} is asked by "
        f"{k} personas ({', '.join(names)}) but probes_per_target is "
        f"{study.probes_per_target}, not a multiple of {k}, so they cannot ask it equally "
        f"often; {fix}, or change the personas' countries",
    )


def _cap_problems(
    study: Study, personas: Iterable[Persona], chosen: dict[Key, str]
) -> list[Problem]:
    problems = []
    sends = Counter(chosen.values())
    for p in personas:
        if p.max_probes is not None and sends[p.name] > p.max_probes:
            problems.append(
                Problem(
                    "study.toml",
                    None,
                    f"{p.describe()} would send {sends[p.name]} probes but its max_probes is "
                    f"{p.max_probes}; raise max_probes, add a persona to share its work, or "
                    "lower probes_per_target",
                )
            )
        days = (study.end - study.start).days + 1
        if p.max_probes_per_day is not None and sends[p.name] > p.max_probes_per_day * days:
            problems.append(
                Problem(
                    "study.toml",
                    None,
                    f"{p.describe()} would send {sends[p.name]} probes in {days} days but its "
                    f"max_probes_per_day is {p.max_probes_per_day} (at most "
                    f"{p.max_probes_per_day * days}); raise max_probes_per_day, add a persona, "
                    "or lengthen the sending period",
                )
            )
    cap = study.assignment.max_per_brand if study.assignment else None
    if cap is not None:
        per_brand = Counter(
            (brand, channel, name) for (brand, _, channel, _), name in chosen.items()
        )
        for (brand, channel, name), n in sorted(per_brand.items()):
            if n > cap:
                problems.append(
                    Problem(
                        "study.toml",
                        None,
                        f"persona {name} would ask {brand} on {channel} {n} times but "
                        f"[assignment] max_per_brand is {cap}; add personas, lower "
                        "probes_per_target, or raise max_per_brand",
                    )
                )
                break  # one example names the fix; the rest are alike
    return problems


def _wordings(
    study: Study, personas: Iterable[Persona], chosen: dict[Key, str]
) -> tuple[dict[Key, Choice], list[Problem]]:
    """Each probe's wording: the personas that post in one language on one channel take the
    wordings of each script in name order (wrapping round when there are fewer)."""
    declared = {p.name for p in personas if p.declared}
    language = {c.code: c.language for c in study.countries}
    posters: dict[tuple[str, str], set[str]] = defaultdict(set)  # (channel, lang) -> personas
    for (_, country, channel, _), name in chosen.items():
        posters[channel, language.get(country, "")].add(name)
    index = {
        (channel, lang, name): i
        for (channel, lang), names in posters.items()
        for i, name in enumerate(sorted(names))
    }
    choices = {
        key: Choice(
            name if name in declared else "",
            index[key[2], language.get(key[1], ""), name],
        )
        for key, name in chosen.items()
    }
    problems = []
    for (channel, lang), names in sorted(posters.items()):
        if channel not in CROSS_ACCOUNT_DUPLICATES or len(names) < 2:
            continue
        for script in sorted(study.scripts, key=lambda s: s.id):
            have = script.wordings(lang)
            if 0 < have < len(names):
                problems.append(
                    Problem(
                        "scripts.csv",
                        None,
                        f"{len(names)} personas post on {channel} in '{lang}' "
                        f"({', '.join(sorted(names))}) but script '{script.id}' has "
                        f"{have} wording{'s' if have > 1 else ''} in '{lang}', and {channel} "
                        "refuses identical or similar content across accounts; add rows "
                        f"'{script.id},...,{lang},...' with variant {have + 1} to "
                        f"{len(names)} (one wording per persona)",
                    )
                )
    return choices, problems


def persona_of(choices: dict[Key, Choice], target: Target, round_no: int) -> Choice:
    """The choice for `target`'s probe in round `round_no` (1-based)."""
    try:
        return choices[target.brand, target.country, target.channel, round_no]
    except KeyError:
        raise StudyError(
            f"{target.channel} account {mention(target.channel, target.handle)} in "
            f"{target.country}: no persona was assigned to round {round_no}"
        ) from None
