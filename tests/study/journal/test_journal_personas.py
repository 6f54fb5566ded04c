"""The journal records the persona of every probe and reply, its attributes and its follower
count at each send; a journal made before personas reads and runs as before."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from study.journal.campaign import Journal
from study.journal.status import persona_lines, read_status
from study.model import ChannelSettings, ProbeState, Sent
from study.paths import journal_path
from study.personas import Persona
from tests.study.journal.test_journal import PLAN, T0, WINDOW, open_journal, reply

ANNA = Persona(
    "anna",
    "x",
    ChannelSettings("x", "https://api.x.test", "anna_probe", "ANNA_TOKEN"),
    (("country", "DE"), ("gender", "f")),
)
BEN = replace(ANNA, name="ben", settings=replace(ANNA.settings, account="ben_probe"))
# kaito's probes are anna's and ben's; brenner's, the channel's one account's
SPLIT = [replace(PLAN[0], persona="anna"), replace(PLAN[1], persona="ben"), PLAN[2]]


def test_probes_replies_and_personas_are_recorded(tmp_path: Path) -> None:
    j = Journal.create_or_open(
        tmp_path, SPLIT, study_name="t", window_hours=72, now=T0, personas=[ANNA, BEN]
    )
    rows = j.con.execute("SELECT probe_id, persona FROM probes ORDER BY probe_id").fetchall()
    assert [tuple(r) for r in rows] == [
        ("brenner-DE-x-r3", "x"),
        ("kaito-DE-x-r1", "anna"),
        ("kaito-DE-x-r2", "ben"),
    ]
    assert j.probe("kaito-DE-x-r2") == SPLIT[1] and j.probe("brenner-DE-x-r3") == PLAN[2]
    attributes = j.con.execute("SELECT * FROM persona_attributes ORDER BY 1, 2").fetchall()
    assert [tuple(r) for r in attributes] == [
        ("anna", "country", "DE"),
        ("anna", "gender", "f"),
        ("ben", "country", "DE"),
        ("ben", "gender", "f"),
    ]
    assert [p.probe_id for p in j.due(T0 + timedelta(hours=9), channels={"ben"})] == [
        "kaito-DE-x-r2"
    ]
    a = j.begin_attempt("kaito-DE-x-r2", T0)
    j.record_sent(a, Sent("kaito-DE-x-r2", "1001", T0, followers=57), WINDOW)
    at = T0 + timedelta(hours=2)
    j.record_inbox("ben", [(reply("5", at), "kaito-DE-x-r2")], {"since": "5"}, at)
    assert j.senders(state=ProbeState.SENT) == ["ben"]
    row = j.con.execute("SELECT channel, persona FROM replies").fetchone()
    assert tuple(row) == ("x", "ben")  # the reply's channel kind, the inbox's persona
    assert j.con.execute("SELECT followers FROM probes WHERE persona = 'ben'").fetchone()[0] == 57
    assert j.close_windows("anna", T0 + WINDOW) == 0  # anna's inbox closes anna's windows
    assert j.close_windows("ben", T0 + WINDOW) == 1
    j.close()
    status = read_status(tmp_path)
    assert status.personas == {
        "anna": {"planned": 1},
        "ben": {"closed": 1},
        "x": {"planned": 1},
    }
    assert persona_lines(status) == [
        "persona anna: planned 1 (of 1)",
        "persona ben: closed 1 (of 1)",
        "persona x: planned 1 (of 1)",
    ]


def test_a_journal_made_before_personas_reads_and_runs_as_before(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    a = j.begin_attempt("kaito-DE-x-r1", T0)
    j.record_sent(a, Sent("kaito-DE-x-r1", "1001", T0), WINDOW)
    at = T0 + timedelta(hours=2)
    j.record_inbox("x", [(reply("5", at), "kaito-DE-x-r1")], {"since": "5"}, at)
    j.close()
    con = sqlite3.connect(journal_path(tmp_path))
    for table, column in (("probes", "persona"), ("probes", "followers"), ("replies", "persona")):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("DROP TABLE personas")
    con.execute("DROP TABLE persona_attributes")
    con.commit()
    con.close()
    # Read-only, not migrated: status reads each probe's channel as its persona.
    status = read_status(tmp_path)
    assert status.answered == 1
    assert status.personas == {"x": {"planned": 2, "sent": 1}}
    assert persona_lines(status) == []  # one account per channel: nothing to show
    # Opened for writing: the columns come, filled in from the channel.
    j = open_journal(tmp_path)
    rows = j.con.execute("SELECT DISTINCT persona FROM probes UNION SELECT persona FROM replies")
    assert [r[0] for r in rows] == ["x"]
    assert j.senders() == ["x"]
    assert j.probe("kaito-DE-x-r1") == PLAN[0]
