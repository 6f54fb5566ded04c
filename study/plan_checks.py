"""What makes a study impossible to plan, found before planning (for `validate`): too few
days or scripts for the rounds, rounds without a day of their slot, accounts over the ethics
cap, and accounts that would be sent one text twice."""

from __future__ import annotations

from study.assign import assign, assignment_problems, persona_of
from study.errors import Problem
from study.model import WEEKDAYS, Study
from study.plan_design import (
    account_name,
    countries_in_order,
    design,
    round_spans,
    script_text,
    slot_days,
    target_accounts,
)


def plan_problems(study: Study) -> list[Problem]:
    """Reasons the study cannot be planned, found before planning (for `validate`)."""
    problems: list[Problem] = []
    rounds = study.probes_per_target
    days = (study.end - study.start).days + 1
    probed = study.probed_targets
    if rounds > days:
        problems.append(
            Problem(
                "study.toml",
                None,
                f"probes_per_target is {rounds} but the sending period {study.start} to "
                f"{study.end} has only {max(days, 0)} day(s); lower probes_per_target or "
                f"lengthen the sending period to at least {rounds} days",
            )
        )
    if probed and not study.scripts:
        problems.append(
            Problem("scripts.csv", None, "no scripts: add at least one inquiry to scripts.csv")
        )
    if probed and not study.slots:
        problems.append(
            Problem("study.toml", None, "no slots: add at least one [slots.NAME] table")
        )
    if probed and 0 < len(study.scripts) < rounds:
        problems.append(
            Problem(
                "scripts.csv",
                None,
                f"probes_per_target is {rounds} but there are only {len(study.scripts)} "
                "scripts, so every target would be sent one text twice, and platforms refuse "
                f"a repeated post (X answers 403); write at least {rounds} scripts or lower "
                "probes_per_target",
            )
        )
    if problems:
        return problems
    problems.extend(_span_problems(study))
    problems.extend(_cap_problems(study))
    assigned = assignment_problems(study)
    problems.extend(assigned)
    if not assigned:
        problems.extend(_duplicate_problems(study))
    return problems


def _span_problems(study: Study) -> list[Problem]:
    countries = countries_in_order(study)
    with_targets = {t.country for t in study.probed_targets}
    problems = []
    for r, (first, last) in enumerate(round_spans(study)):
        used = sorted(
            {
                design(r, c, len(study.scripts), len(study.slots))[1]
                for c, country in enumerate(countries)
                if country.code in with_targets
            }
        )
        for s in used:
            slot = study.slots[s]
            if not slot_days(slot, first, last):
                days = ", ".join(WEEKDAYS[d] for d in sorted(slot.days))
                problems.append(
                    Problem(
                        "study.toml",
                        None,
                        f"round {r + 1} ({first} to {last}) has no day of slot "
                        f"'{slot.name}' ({days}); lengthen the sending period to at least "
                        f"7 days per round ({7 * study.probes_per_target} days) or change "
                        "the slot's days",
                    )
                )
    return problems


def _cap_problems(study: Study) -> list[Problem]:
    cap = study.ethics.max_probes_per_account
    problems = []
    for targets in target_accounts(study).values():
        count = len(targets) * study.probes_per_target
        if count > cap:
            first = min(targets, key=lambda t: t.line)
            problems.append(
                Problem(
                    "targets.csv",
                    first.line or None,
                    f"{account_name(first)} would get {count} probes ({len(targets)} "
                    f"target(s) x {study.probes_per_target} rounds) but "
                    f"max_probes_per_account is {cap}; lower probes_per_target, raise "
                    "max_probes_per_account, or ask this account from fewer countries",
                )
            )
    return problems


def _duplicate_problems(study: Study) -> list[Problem]:
    """Accounts that would be sent one text twice: X refuses a post that repeats one of the
    account's earlier posts (403 duplicate content), so those probes could never be sent.

    It happens when a global account is asked from countries that share a language and get
    the same script in some round (more rounds than scripts are reported before).
    """
    scripts = sorted(study.scripts, key=lambda s: s.id)
    countries = countries_in_order(study)
    index = {c.code: i for i, c in enumerate(countries)}
    language = {c.code: c.language for c in countries}
    choices = assign(study)
    problems = []
    for targets in target_accounts(study).values():
        first_of: dict[str, str] = {}  # text -> the first probe id found to send it
        repeats: list[tuple[str, str, str]] = []  # (probe id, probe id, language): one text
        for t in sorted(targets, key=lambda t: (t.country, t.brand)):
            if t.country not in index:
                continue  # make_plan names the country that has no table
            country = countries[index[t.country]]
            for r in range(study.probes_per_target):
                s, _ = design(r, index[t.country], len(scripts), len(study.slots))
                if country.language not in dict(scripts[s].texts):
                    continue  # make_plan names the missing text
                probe_id = f"{t.brand}-{t.country}-{t.channel}-r{r + 1}"
                text = script_text(scripts[s], country, t, persona_of(choices, t, r + 1).variant)
                if text in first_of:
                    pair = sorted((first_of[text], probe_id))
                    repeats.append((pair[0], pair[1], country.language))
                else:
                    first_of[text] = probe_id
        if not repeats:
            continue
        shared = " and ".join(
            ", ".join(sorted(t.country for t in targets if language.get(t.country) == lang))
            + f" ({lang})"
            for lang in sorted({lang for _, _, lang in repeats})
        )
        one, other, _ = min(repeats)
        first = min(targets, key=lambda t: t.line)
        problems.append(
            Problem(
                "scripts.csv",
                None,
                f"{account_name(first)} would be sent the same text more than once: "
                f"{len(repeats)} of its probes {'repeat' if len(repeats) > 1 else 'repeats'} "
                f"another one's text (e.g. {one} and {other}), and platforms refuse a "
                f"repeated post (X answers 403); it is asked from {shared}: add {{country}} "
                "to the script texts of the languages these countries share, or write more "
                "scripts",
            )
        )
    return problems
