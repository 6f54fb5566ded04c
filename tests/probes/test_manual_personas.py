"""Personas who send by hand (`[personas.NAME] channel = "manual"`): each gets their own
worksheet with a `persona` column, their filled sheet is recorded as their sends and their
replies, and `run --persona` points them to the worksheet."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import timedelta
from pathlib import Path

from study.paths import journal_path
from study.timeutil import parse_iso
from tests.e2e.studies import Persona, add_personas, add_targets
from tests.test_cli import invoke

MANUAL = """
[channels.manual]
instructions = "Call the number and ask the question as written"
"""
PERSONAS: dict[str, Persona] = {
    "anna": {"channel": "manual", "country": "DE"},
    "ben": {"channel": "manual", "country": "US"},
}
CALLS = [
    "northwind,Northwind Airways,airline,US,manual,+1 555 0100,local",
    "northwind,Northwind Airways,airline,DE,manual,+49 30 5550100,local",
]


def by_hand_study(path: Path) -> Path:
    code, _, err = invoke("init", str(path))
    assert code == 0, err
    return add_targets(add_personas(path, PERSONAS, channels=MANUAL), CALLS)


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_each_manual_persona_gets_a_sheet_and_their_replies_are_theirs(tmp_path: Path) -> None:
    d = by_hand_study(tmp_path / "s")
    anna = tmp_path / "anna.csv"
    code, out, err = invoke("worksheet", str(d), "--persona", "anna", "--out", str(anna))
    assert code == 0, err
    assert out.startswith(f"wrote {anna}: 3 probes to send by hand")
    sheet = rows(anna)
    assert [(r["country"], r["persona"]) for r in sheet] == [("DE", "anna")] * 3
    everyone = tmp_path / "all.csv"
    assert invoke("worksheet", str(d), "--out", str(everyone))[0] == 0
    assert sorted(r["persona"] for r in rows(everyone)) == ["anna"] * 3 + ["ben"] * 3

    # Anna calls the first number and gets an answer an hour later.
    first = sheet[0]
    sent = parse_iso(first["scheduled_at"])
    first.update(
        sent_at=sent.isoformat(),
        replied_at=(sent + timedelta(hours=1)).isoformat(),
        reply_kind="public_reply",
        reply_text="We can help: your booking is confirmed.",
    )
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(sheet[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows([first, *(dict(r) for r in sheet[1:])])
    anna.write_text(buf.getvalue(), encoding="utf-8")
    code, _, err = invoke("import-worksheet", str(d), str(anna))
    assert code == 0, err
    con = sqlite3.connect(journal_path(d))
    try:
        probe = con.execute(
            "SELECT persona, state FROM probes WHERE probe_id = ?", (first["probe_id"],)
        ).fetchone()
        reply = con.execute(
            "SELECT persona FROM replies WHERE probe_id = ?", (first["probe_id"],)
        ).fetchone()
        inboxes = {r[0] for r in con.execute("SELECT channel FROM cursors")}
    finally:
        con.close()
    assert probe == ("anna", "closed")  # its window ended long before the import
    assert reply == ("anna",)
    assert inboxes == {"manual", "anna"}  # anna's sheet says nothing of ben's replies


def test_run_persona_for_a_manual_persona_points_to_the_worksheet(tmp_path: Path) -> None:
    d = by_hand_study(tmp_path / "s")
    code, _, err = invoke("run", str(d), "--persona", "ben", "--api-base", "http://127.0.0.1:9")
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"Error: --persona ben: ben sends by hand (channel manual), not through the runner; "
        f"write their worksheet: replybench worksheet {d} --persona ben --out ben.csv"
    )
