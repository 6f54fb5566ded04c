"""Personas assigned by design: balanced, within caps, never one text twice to a brand, and
the same plan from the same seed."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from study.assign import assign, assignment_problems
from study.errors import StudyProblems
from study.model import ChannelSettings, PlannedProbe, Scope, Study
from study.personas import BALANCED, BY_COUNTRY, Assignment, Persona
from study.plan import make_plan, plan_json, plan_problems
from tests.study.test_plan import RANDOM, ZONES, make_study, plan_or_reject, target

X = ChannelSettings("x", "https://api.x.test", "probe", "TOKEN")


def persona(
    name: str,
    country: str | None,
    *,
    per_day: int | None = None,
    spacing: float = 0.0,
    total: int | None = None,
) -> Persona:
    attributes = (("country", country),) if country else ()
    settings = replace(X, account=f"{name}_probe", token_env=f"{name.upper()}_TOKEN")
    return Persona(name, "x", settings, attributes, total, per_day, spacing)


def worded(study: Study, wordings: int) -> Study:
    """Each script with `wordings` wordings per language, each its own text."""
    scripts = tuple(
        replace(
            s,
            variants=tuple(
                (lang, f"{text} (v{n})") for lang, text in s.texts for n in range(2, wordings + 1)
            ),
        )
        for s in study.scripts
    )
    return replace(study, scripts=scripts)


@st.composite
def persona_studies(draw: st.DrawFn) -> Study:
    design = draw(st.sampled_from([BALANCED, BY_COUNTRY]))
    codes = draw(st.lists(st.sampled_from(sorted(ZONES)), min_size=1, max_size=3, unique=True))
    per_country = draw(st.integers(1, 3))
    roaming = draw(st.integers(0, 2)) if design == BALANCED else 0  # personas of no country
    pool = per_country + roaming
    rounds = pool * draw(st.integers(1, 2)) if design == BALANCED else draw(st.integers(1, 4))
    per_day = draw(st.sampled_from([None, 1, 2, 5]))
    spacing = draw(st.sampled_from([0.0, 0.5, 3.0]))
    personas = [
        persona(f"p{code.lower()}{i}", code, per_day=per_day, spacing=spacing)
        for code in codes
        for i in range(per_country)
    ] + [persona(f"roam{i}", None, per_day=per_day, spacing=spacing) for i in range(roaming)]
    brands = draw(st.integers(1, 3))
    targets = []
    for b in range(brands):
        for code in codes:
            scope = draw(st.sampled_from([Scope.LOCAL, Scope.LOCAL, Scope.GLOBAL]))
            handle = f"B{b}_{code}" if scope is Scope.LOCAL else f"B{b}_global"
            targets.append(target(f"b{b}", code, handle, scope))
    study = make_study(
        targets=targets,
        countries=codes,
        scripts=draw(st.integers(rounds, rounds + 2)),
        start=date(2026, 3, 2),
        end=date(2026, 3, 2) + timedelta(days=7 * rounds - 1),
        rounds=rounds,
        spacing=draw(st.sampled_from([0, 1, 2])),
        cap=100,
        per_day=draw(st.sampled_from([2, 10])),
        seed=draw(st.integers(0, 2**63)),
    )
    max_per_brand = draw(st.sampled_from([None, rounds * len(codes)]))
    study = replace(
        worded(study, pool + len(codes) * per_country),
        personas=tuple(sorted(personas, key=lambda p: p.name)),
        assignment=Assignment(design, max_per_brand),
    )
    if plan_problems(study):
        reject()
    return study


def by_name(study: Study) -> dict[str, Persona]:
    return {p.name: p for p in study.personas}


@RANDOM
@given(persona_studies())
def test_every_brand_gets_its_personas_as_the_design_says(study: Study) -> None:
    plan = plan_or_reject(study)
    personas = by_name(study)
    assert all(p.persona in personas for p in plan)
    by_target: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for p in plan:
        by_target[p.brand, p.country][p.persona] += 1
    assert study.assignment is not None
    for (_, code), asked in by_target.items():
        own = {n for n, q in personas.items() if q.country == code}
        if study.assignment.design == BY_COUNTRY:
            assert set(asked) <= own  # only the country's own personas ask
            assert max(asked.values()) - min(asked.values()) <= 1 or len(asked) == 1
        else:
            pool = own | {n for n, q in personas.items() if q.country is None}
            assert set(asked) == pool  # every persona of the pool, equally often
            assert len(set(asked.values())) == 1


@RANDOM
@given(persona_studies())
def test_caps_and_spacing_hold_per_persona(study: Study) -> None:
    plan = plan_or_reject(study)
    personas = by_name(study)
    sends: dict[str, list[PlannedProbe]] = defaultdict(list)
    for p in plan:
        sends[p.persona].append(p)
    for name, probes in sends.items():
        q = personas[name]
        times = sorted(p.scheduled_at for p in probes)
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert all(g >= q.min_spacing_hours * 3600 for g in gaps)
        if q.max_probes_per_day is not None:
            assert max(Counter(t.date() for t in times).values()) <= q.max_probes_per_day
    assert study.assignment is not None
    if study.assignment.max_per_brand is not None:
        per_brand = Counter((p.brand, p.persona) for p in plan)
        assert max(per_brand.values()) <= study.assignment.max_per_brand


@RANDOM
@given(persona_studies())
def test_no_brand_account_gets_one_text_twice_nor_personas_one_wording(study: Study) -> None:
    plan = plan_or_reject(study)
    texts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in plan:
        texts[p.channel, p.handle.lower()].append(p.text)
    assert all(len(t) == len(set(t)) for t in texts.values())
    # The personas that post one script in one language each post their own wording.
    wordings: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    language = {c.code: c.language for c in study.countries}
    for p in plan:
        wording = p.text.replace("@" + p.handle, "").replace(p.country, "")
        wordings[p.script, language[p.country]][wording].add(p.persona)
    for by_wording in wordings.values():
        assert all(len(senders) == 1 for senders in by_wording.values())


@RANDOM
@given(persona_studies())
def test_the_assignment_follows_from_the_seed(study: Study) -> None:
    plan = plan_or_reject(study)
    again = make_plan(replace(study, targets=tuple(reversed(study.targets))))
    assert plan_json(plan) == plan_json(again)
    assert assign(study) == assign(replace(study))


def test_a_plan_without_personas_keeps_its_json() -> None:
    study = make_study(targets=[target("kaito", "DE", "Kaito")], scripts=2)
    plan = make_plan(study)
    assert all(p.persona == "" and p.sender == "x" for p in plan)
    assert '"persona"' not in plan_json(plan)


def _two_per_country(design: str, rounds: int = 2, wordings: int = 2) -> Study:
    study = make_study(
        targets=[target("kaito", "DE", "Kaito_DE"), target("kaito", "US", "Kaito_US")],
        rounds=rounds,
        scripts=rounds,
        end=date(2026, 3, 2) + timedelta(days=7 * rounds - 1),
    )
    return replace(
        worded(study, wordings),
        personas=(
            persona("anna", "DE"),
            persona("ben", "DE"),
            persona("cleo", "US"),
            persona("dan", "US"),
        ),
        assignment=Assignment(design),
    )


def test_a_balanced_design_that_cannot_be_balanced_says_what_to_set() -> None:
    study = _two_per_country(BALANCED, rounds=3)
    [problem, *_] = assignment_problems(study)
    assert str(problem) == (
        "study.toml: design balanced: kaito in DE on x is asked by 2 personas (anna, ben) but "
        "probes_per_target is 3, not a multiple of 2, so they cannot ask it equally often; set "
        "probes_per_target to 4 or 2, or change the personas' countries"
    )
    with pytest.raises(StudyProblems):
        make_plan(study)


def test_a_country_without_a_persona_is_named_with_the_fix() -> None:
    study = _two_per_country(BY_COUNTRY)
    study = replace(study, personas=study.personas[:2])
    assert [str(p) for p in assignment_problems(study)] == [
        "targets.csv: kaito in US on x: no persona of x can ask it under design by_country "
        '(the personas of x: anna, ben); add a [personas.NAME] table with channel = "x" and '
        'country = "US"'
    ]


def test_too_few_wordings_on_x_are_named_per_script_and_language() -> None:
    study = _two_per_country(BY_COUNTRY, wordings=1)
    found = [str(p) for p in assignment_problems(study)]
    assert found[0] == (
        "scripts.csv: 2 personas post on x in 'de' (anna, ben) but script 's0' has 1 wording "
        "in 'de', and x refuses identical or similar content across accounts; add rows "
        "'s0,...,de,...' with variant 2 to 2 (one wording per persona)"
    )
    assert len(found) == 4  # two scripts, two languages


def test_caps_that_cannot_hold_are_named() -> None:
    study = _two_per_country(BY_COUNTRY)
    tight = replace(study.personas[0], max_probes=0)
    study = replace(
        study,
        personas=(tight, *study.personas[1:]),
        assignment=Assignment(BY_COUNTRY, max_per_brand=0),
    )
    found = [str(p) for p in assignment_problems(study)]
    assert found[0] == (
        "study.toml: persona anna (x account @anna_probe) would send 1 probes but its "
        "max_probes is 0; raise max_probes, add a persona to share its work, or lower "
        "probes_per_target"
    )
    assert found[1].startswith("study.toml: persona anna would ask kaito on x 1 times but ")


def test_personas_of_a_country_take_turns() -> None:
    plan = make_plan(_two_per_country(BY_COUNTRY))
    de = sorted((p.round, p.persona) for p in plan if p.country == "DE")
    assert [name for _, name in de] in (["anna", "ben"], ["ben", "anna"])
