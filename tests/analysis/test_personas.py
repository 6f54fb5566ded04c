"""The personas of a study as groupings in `analyze`: statistics, effects, and nothing for a
study without several personas."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from analysis import analyze, outcomes
from analysis.persona_effect import persona_effects
from study.paths import journal_path
from tests.analysis.journals import T0, P, R, hours, write_journal

# brand -> persona -> answered out of 4 (answers after 1 h, the rest never)
ANSWERS = {
    "acorn": {"anna": 4, "ben": 2},
    "birch": {"anna": 3, "ben": 1},
    "cedar": {"anna": 2, "ben": 2},
}
FOLLOWERS = {"anna": "5000", "ben": "40"}


def persona_study(
    tmp_path: Path, *, personas: bool = True, followers: dict[str, str] = FOLLOWERS
) -> Path:
    """Three brands asked four times by each of two personas (ANSWERS), with `followers`."""
    probes, replies, senders = [], [], {}
    for brand, by_persona in ANSWERS.items():
        for persona, answered in by_persona.items():
            for i in range(4):
                pid = f"{brand}-{persona}-{i}"
                sent = T0 + hours(i)
                probes.append(P(pid, brand=brand, handle=f"{brand}_de", sent_at=sent))
                senders[pid] = persona
                if i < answered:
                    replies.append(R(pid, f"{brand}_de", sent + hours(1)))
    write_journal(tmp_path, probes, replies, last_observation=T0 + hours(200))
    if personas:
        con = sqlite3.connect(journal_path(tmp_path))
        with con:
            con.executemany(
                "UPDATE probes SET persona = ? WHERE probe_id = ?",
                [(name, pid) for pid, name in senders.items()],
            )
            con.executemany(
                "INSERT INTO personas(persona, channel, account) VALUES (?, 'x', ?)",
                [(name, f"{name}_probe") for name in FOLLOWERS],
            )
            con.executemany(
                "INSERT INTO persona_attributes(persona, attribute, value) VALUES (?, ?, ?)",
                [(name, "followers", n) for name, n in followers.items()]
                + [("anna", "gender", "f")],  # ben has no gender: left out of that grouping
            )
        con.close()
    return tmp_path


def test_persona_and_its_attributes_are_groupings(tmp_path: Path) -> None:
    result = analyze(persona_study(tmp_path), replicates=50)
    groups = result["groups"]
    by_persona = {g["persona"]: g for g in groups["persona"]}
    assert {k: (g["probes"], g["answered"]) for k, g in by_persona.items()} == {
        "anna": (12, 9),
        "ben": (12, 5),
    }
    assert by_persona["anna"]["response_rate"] == 0.75
    assert by_persona["anna"]["median_hours"] == 1.0
    cells = {(g["brand"], g["persona"]): g["answered"] for g in groups["brand_persona"]}
    assert cells == {(b, p): n for b, ps in ANSWERS.items() for p, n in ps.items()}
    followers = {g["followers"]: g["answered"] for g in groups["persona_followers"]}
    assert followers == {"5000": 9, "40": 5}
    assert [g["gender"] for g in groups["persona_gender"]] == ["f"]
    # The other groupings are what they were: the outcomes were put back.
    assert groups["overall"][0]["probes"] == 24 and groups["overall"][0]["answered"] == 14
    assert [g["country"] for g in groups["country"]] == ["DE"]
    json.dumps(result, allow_nan=False)


def test_the_persona_effect_is_the_brand_stratified_difference(tmp_path: Path) -> None:
    d = persona_study(tmp_path)
    effects = analyze(d, replicates=50)["persona_effects"]
    assert set(effects) == {"persona", "persona_followers", "persona_gender"}
    persona = effects["persona"]
    assert persona["attribute"] is None and persona["unknown"] == 0
    # Equal sizes: the reference is the first level in sort order.
    [effect] = persona["effects"]
    assert (effect["level"], effect["reference"]) == ("ben", "anna")
    # Equal sizes in every brand: the MH difference is the mean of the brands' differences.
    assert effect["difference"] == pytest.approx(round(((2 - 4) + (1 - 3) + 0) / 4 / 3, 4))
    frame = outcomes(d).assign(persona=lambda f: f["probe_id"].str.split("-").str[1])
    oracle = persona_effects(frame, "persona").effects[0]
    assert effect["difference_low"] == pytest.approx(oracle.difference_low, abs=1e-4)
    assert effect["difference_high"] == pytest.approx(oracle.difference_high, abs=1e-4)
    assert effect["logrank_p"] == pytest.approx(oracle.logrank_p, rel=1e-3)
    followers = effects["persona_followers"]
    assert followers["attribute"] == "followers"
    assert followers["effects"][0]["difference"] == pytest.approx(-effect["difference"])
    gender = effects["persona_gender"]
    assert (gender["probes"], gender["unknown"], gender["effects"]) == (12, 12, [])


def test_a_study_without_personas_has_no_persona_groupings(tmp_path: Path) -> None:
    d = persona_study(tmp_path, personas=False)  # every probe sent by the channel's account
    result = analyze(d, replicates=50)
    assert "persona_effects" not in result
    assert not any(name.startswith("persona") or "persona" in name for name in result["groups"])
