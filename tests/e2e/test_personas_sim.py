"""A personas study run end to end over HTTP through the command line: the simulator as
`replybench sim` builds it serves every persona's account, and `replybench run` (once for
all personas, or split into `run --persona` runs joined by `replybench merge`) sends each
probe from its persona's account and reads each persona's inbox. Time is the test's
(SharedClock): the runner's sleeps move it, so nothing depends on the machine's speed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from study.load import load_study
from study.paths import journal_path, ledger_path
from study.plan import make_plan
from tests.e2e.personas import run_cli
from tests.e2e.studies import NAMES, team_study
from tests.test_cli import invoke

ACCOUNTS = {"anna": "anna_probe", "ben": "ben_probe", "cleo": "cleo_probe"}


def probes(d: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(journal_path(d))
    try:
        return con.execute(
            "SELECT probe_id, persona, state, message_id, sent_at, followers FROM probes "
            "ORDER BY probe_id"
        ).fetchall()
    finally:
        con.close()


def replies(d: Path) -> list[tuple[object, ...]]:
    """(reply's persona, its probe's persona, kind) of every reply matched to a probe."""
    con = sqlite3.connect(journal_path(d))
    try:
        return con.execute(
            "SELECT r.persona, p.persona, r.kind FROM replies r JOIN probes p USING (probe_id)"
        ).fetchall()
    finally:
        con.close()


def ledger(*folders: Path) -> list[dict[str, object]]:
    """What happened on the simulated platform(s) the runs of `folders` talked to."""
    lines = [x for d in folders for x in ledger_path(d).read_text("utf-8").splitlines()]
    return [json.loads(line) for line in lines if line.strip()]


def check_each_persona_asked_and_was_answered(d: Path, *platforms: Path) -> None:
    """Every probe of the journal in `d` closed, sent from its persona's account; every
    reply read in the inbox of the persona that asked; every brand's DM (in the ledgers of
    `platforms`, default `d`'s) sent to an account that asked that brand."""
    study = load_study(d)
    plan = {p.probe_id: p for p in make_plan(study)}
    rows = probes(d)
    assert rows and all(r[2] == "closed" for r in rows)
    entries = ledger(*(platforms or (d,)))
    posts = {str(e["id"]): e for e in entries if e["kind"] == "post"}
    for probe_id, persona, _, message_id, _, followers in rows:
        assert persona == plan[str(probe_id)].persona
        # Sent from its persona's own account, with that account's follower count.
        assert posts[str(message_id)]["author"] == ACCOUNTS[str(persona)]
        assert followers == (812 if persona == "ben" else 0)
    matched = replies(d)
    assert {k for _, _, k in matched} >= {"public_reply", "direct_message"}
    assert all(inbox == asker for inbox, asker, _ in matched)  # read in the asker's inbox
    asked = {
        (str(e["author"]), str(e["text"]).split()[0].lstrip("@").lower())
        for e in posts.values()
        if e.get("role") == "probe"
    }
    brand_dms = [e for e in entries if e["kind"] == "dm" and e.get("role") == "brand"]
    assert brand_dms
    for dm in brand_dms:  # a brand's DM goes to an account that asked it
        assert (dm["recipient"], str(dm["author"]).lower()) in asked


@pytest.mark.slow
def test_a_personas_study_runs_on_the_simulator_as_one_run_and_split(
    tmp_path: Path,
) -> None:
    base = team_study(tmp_path / "base")
    toml = base / "study.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('gender = "m"', 'gender = "m"\nfollowers = 812'), "utf-8")
    folders = {}
    for name in (*NAMES, "all"):
        folders[name] = tmp_path / name
        shutil.copytree(base, folders[name])

    out = run_cli(folders["all"])
    assert out.startswith("campaign over: closed 16;")
    check_each_persona_asked_and_was_answered(folders["all"])

    for name in NAMES:  # each member of the team runs their persona against the platform
        run_cli(folders[name], name)
    journals = [str(journal_path(folders[n])) for n in NAMES]
    code, out, err = invoke("merge", str(base), *journals)
    assert code == 0, err
    check_each_persona_asked_and_was_answered(base, *(folders[n] for n in NAMES))
    # The same probes, sent from the same accounts at the same times, as the one run.
    assert probes(base) == probes(folders["all"])
    code, out, err = invoke("status", str(base))
    assert code == 0, err
    assert "persona anna: closed 8 (of 8)" in out.splitlines()
