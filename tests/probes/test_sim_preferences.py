"""Brands' preferences among personas in simulator.toml: read and checked with the rest of
the file, applied to the profile of a probe's persona."""

from __future__ import annotations

import shutil
from pathlib import Path

from probes.sim.behaviour import DEFAULT_PROFILE
from probes.sim.brands import sender_index
from probes.sim.preferences import Preference, preferred
from probes.sim.profiles import study_problems, study_settings
from study.load import load_study
from tests.e2e.personas import EXAMPLE

FIVE_THOUSAND = Preference("followers", "5000", 0.35, 0.6)


def test_the_examples_preferences_are_read_per_brand() -> None:
    settings = study_settings(load_study(EXAMPLE))
    assert settings.preferences_of("marlowe") == (FIVE_THOUSAND,)
    # quillon's own table replaces the one for every brand
    assert settings.preferences_of("quillon") == (Preference("followers", "5000", 0.0, 1.0),)


def test_a_preference_shifts_the_rate_within_0_and_1_and_scales_the_latency() -> None:
    lena = {"persona": "lena", "followers": "5000"}
    profile = preferred(DEFAULT_PROFILE, [FIVE_THOUSAND], lena)
    assert profile.answer_rate == DEFAULT_PROFILE.answer_rate + 0.35
    assert profile.median_minutes == DEFAULT_PROFILE.median_minutes * 0.6
    jonas = {"persona": "jonas", "followers": "40"}
    assert preferred(DEFAULT_PROFILE, [FIVE_THOUSAND], jonas) == DEFAULT_PROFILE
    never = Preference("persona", "lena", -1.0)
    assert preferred(DEFAULT_PROFILE, [never, FIVE_THOUSAND], lena).answer_rate == 0.35
    assert preferred(DEFAULT_PROFILE, [Preference("persona", "lena", 0.9)], lena).answer_rate == 1


def test_every_planned_text_knows_its_persona() -> None:
    study = load_study(EXAMPLE)
    senders = sender_index(study, "x")
    assert len(senders) == 128
    assert {s["persona"] for s in senders.values()} == {"jonas", "lena", "maya", "tyler"}
    assert {s["followers"] for s in senders.values() if s["persona"] == "lena"} == {"5000"}


def test_preferences_naming_what_the_study_lacks_are_reported_at_their_line(
    tmp_path: Path,
) -> None:
    d = tmp_path / "study"
    shutil.copytree(EXAMPLE, d)
    (d / "simulator.toml").write_text(
        "[personas.folowers.5000]\n"  # line 1: a typo
        "answer_rate_change = 0.2\n"
        "\n"
        "[personas.followers.500]\n"  # line 4: no persona has it
        "answer_rate_change = 0.2\n"
        "\n"
        "[brands.quillon.personas.persona.lena]\n"
        "answer_rate_change = 2\n"  # line 8
        "median_minute_factor = 0.5\n",  # line 9
        encoding="utf-8",
    )
    problems = study_problems(d, load_study(d))
    got = [(p.line, p.message) for p in problems]
    assert got == [
        (1, "[personas.folowers]: 'folowers' is not a persona attribute of the study (its "
            "attributes: country, followers, language, persona; 'persona' names the persona)"),
        (4, "[personas.followers.500]: no persona has followers = '500'; the study has 40, 5000"),
        (9, "unknown key 'median_minute_factor' in [brands.quillon.personas.persona.lena]; "
            "known keys: answer_rate_change, median_minutes_factor"),
        (8, "[brands.quillon.personas.persona.lena] answer_rate_change must be a number "
            "between -1 and 1, not 2; e.g. 0.15 for 15 points more"),
    ]  # fmt: skip
