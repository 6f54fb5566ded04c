"""The design of a plan, shared by the planner and its checks: rounds as spans of days,
the counterbalanced script and slot of each country in each round, and the plan's nouns
(countries in code order, target accounts, a probe's text)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from study.errors import StudyError
from study.model import Country, Script, Slot, Study, Target
from study.plan_text import fill, mention


def round_spans(study: Study) -> list[tuple[date, date]]:
    """The sending period cut into `probes_per_target` consecutive spans of whole days.

    Spans are as equal as possible (the first ones get the extra days); each is (first, last),
    inclusive local dates. Empty when there are more rounds than days.
    """
    rounds = study.probes_per_target
    days = (study.end - study.start).days + 1
    if rounds <= 0 or days < rounds:
        return []
    base, extra = divmod(days, rounds)
    spans = []
    first = study.start
    for r in range(rounds):
        length = base + (1 if r < extra else 0)
        spans.append((first, first + timedelta(days=length - 1)))
        first += timedelta(days=length)
    return spans


def design(round_index: int, country_index: int, scripts: int, slots: int) -> tuple[int, int]:
    """(script index, slot index) of a country in a round, both 0-based.

    Countries are indexed in code order, scripts in id order, slots in `study.slots` order.
    Script `(r + c) % n` and slot `(r + c + c // n) % m`: within a country both rotate from
    round to round, so each script (and slot) comes once before any repeats; across countries
    in a round they are spread evenly. The `c // n` shift moves each block of n countries one
    slot on, so a script is not always paired with the same slot (with n == m, every
    script meets every slot equally often once there are n * n countries).
    """
    n = max(scripts, 1)
    m = max(slots, 1)
    k = round_index + country_index
    return k % n, (k + country_index // n) % m


def script_text(script: Script, country: Country, target: Target, variant: int = 0) -> str:
    try:
        text = script.text(country.language, variant)
    except KeyError:
        raise StudyError(
            f"scripts.csv: script '{script.id}' has no text in '{country.language}' "
            f"(needed for {country.code}); add a row for it"
        ) from None
    return fill(text, target.channel, target.handle, country.text_name)


def countries_in_order(study: Study) -> list[Country]:
    return sorted(study.countries, key=lambda c: c.code)


def target_accounts(study: Study) -> dict[tuple[str, str], list[Target]]:
    accounts: dict[tuple[str, str], list[Target]] = defaultdict(list)
    for t in study.probed_targets:
        accounts[t.account_key].append(t)
    return dict(sorted(accounts.items()))


def account_name(target: Target) -> str:
    return f"{target.channel} account {mention(target.channel, target.handle)}"


def slot_days(slot: Slot, first: date, last: date) -> list[date]:
    n = (last - first).days + 1
    days = (first + timedelta(days=i) for i in range(n))
    return [d for d in days if d.weekday() in slot.days]
