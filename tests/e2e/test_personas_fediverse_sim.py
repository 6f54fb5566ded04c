"""A personas study on Mastodon and Bluesky run end to end over HTTP through the command line:
the simulator as `replybench sim` builds it serves every persona's account on both platforms
(its own token or app password, notifications, chats, budgets), `replybench run` sends each
probe from its persona's account and reads each persona's inbox, and the brands answer the
persona that asked. Time is the test's (SharedClock, tests/e2e/test_personas_sim.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from study.load import load_study
from study.paths import journal_path
from study.plan import make_plan
from tests.e2e.studies import Persona, add_personas, add_targets, short_study
from tests.e2e.test_personas_sim import ledger, probes, replies, run_cli

CHANNELS = """
[channels.mastodon]
api_base = "https://mastodon.test"
account = "replybench"
token_env = "REPLYBENCH_MASTODON_TOKEN"

[channels.bluesky]
api_base = "https://bsky.test"
account = "replybench.bsky.social"
password_env = "REPLYBENCH_BLUESKY_PASSWORD"
"""
PERSONAS: dict[str, Persona] = {
    "anna": {
        "channel": "mastodon", "account": "anna", "token_env": "ANNA_MASTODON_TOKEN",
        "country": "DE",
    },
    "ben": {
        "channel": "mastodon", "account": "ben", "token_env": "BEN_MASTODON_TOKEN",
        "country": "US",
    },
    "cleo": {
        "channel": "bluesky", "account": "cleo.bsky.social",
        "password_env": "CLEO_BLUESKY_PASSWORD", "country": "DE",
    },
    "dora": {
        "channel": "bluesky", "account": "dora.bsky.social",
        "password_env": "DORA_BLUESKY_PASSWORD", "country": "US",
    },
}  # fmt: skip
# The account each persona's posts come from, as the platform's ledger names it.
ACCOUNTS = {
    "anna": "anna@mastodon.test",
    "ben": "ben@mastodon.test",
    "cleo": "cleo.bsky.social",
    "dora": "dora.bsky.social",
}
BRANDS = ("acorn", "birch", "cedar", "dune")


def fediverse_team_study(path: Path) -> Path:
    """Four brands, each in the US and Germany on Mastodon and Bluesky; a persona per
    platform and country asks its country's brands (by_country)."""
    add_personas(short_study(path), PERSONAS, channels=CHANNELS)
    rows = []
    for b in BRANDS:
        for country in ("US", "DE"):
            c = country.lower()
            rows.append(
                f"{b},{b.capitalize()} Co,retail,{country},mastodon,{b}_{c}@brands.test,local"
            )
            rows.append(
                f"{b},{b.capitalize()} Co,retail,{country},bluesky,{b}-{c}.bsky.social,local"
            )
    return add_targets(path, rows, replace=True)


@pytest.mark.slow
def test_mastodon_and_bluesky_personas_run_on_the_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = fediverse_team_study(tmp_path / "fedi")
    out = run_cli(d)
    assert out.startswith("campaign over: closed 16;"), out
    plan = {p.probe_id: p for p in make_plan(load_study(d))}
    rows = probes(d)
    assert len(rows) == 16 and all(r[2] == "closed" for r in rows)
    assert {r[1] for r in rows} == set(ACCOUNTS)
    posts = {str(e["id"]): e for e in ledger(d) if e["kind"] == "post"}
    for probe_id, persona, _, message_id, _, _ in rows:
        assert persona == plan[str(probe_id)].persona
        assert posts[str(message_id)]["author"] == ACCOUNTS[str(persona)]  # its own account
    matched = replies(d)
    assert {p for _, p, _ in matched} == set(ACCOUNTS)  # every persona's inbox had answers
    assert {k for _, _, k in matched} >= {"public_reply", "direct_message"}
    assert all(inbox == asker for inbox, asker, _ in matched)  # read in the asker's inbox
    con = sqlite3.connect(journal_path(d))
    try:  # nothing another persona was sent ended up unmatched in someone else's inbox
        assert con.execute("SELECT count(*) FROM replies WHERE probe_id IS NULL").fetchone() == (0,)
    finally:
        con.close()
