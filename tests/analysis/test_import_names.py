"""Brand names and sectors in hand-collected imports (issue 13 item 4)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from analysis.export import frame
from analysis.imports import import_csv
from analysis.publish import publish_data
from study.errors import StudyProblems
from study.paths import journal_path

HEADER = "brand,brand_name,sector,country,channel,sent_at,replied_at"
ROWS = (
    "deutsche-telekom,Deutsche Telekom,Telecommunications,DE,x,"
    "2026-03-02T10:00:00Z,2026-03-02T11:00:00Z\n"
    "deutsche-telekom,Deutsche Telekom,Telecommunications,AT,x,2026-03-03T10:00:00Z,\n"
    "kaito,,,DE,x,2026-03-02T12:00:00Z,2026-03-02T12:30:00Z\n"
)


def write(tmp_path: Path, text: str, name: str = "results.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(study: Path, csv_path: Path) -> list[str]:
    with pytest.raises(StudyProblems) as e:
        import_csv(study, csv_path, 72)
    return str(e.value).splitlines()


def test_names_and_sectors_reach_the_journal_the_site_and_the_exports(tmp_path: Path):
    study = tmp_path / "hand"
    import_csv(study, write(tmp_path, f"{HEADER}\n{ROWS}"), 72)
    con = sqlite3.connect(journal_path(study))
    try:
        stored = sorted(con.execute("SELECT brand, name, sector FROM brands"))
    finally:
        con.close()
    assert stored == [("deutsche-telekom", "Deutsche Telekom", "Telecommunications")]
    publish_data(study, tmp_path / "data", replicates=100)
    design = json.loads((tmp_path / "data" / "design.json").read_text(encoding="utf-8"))
    assert design["brands"] == [
        {"brand": "deutsche-telekom", "name": "Deutsche Telekom", "sector": "Telecommunications"},
        {"brand": "kaito", "name": "kaito", "sector": ""},
    ]
    for table in ("probes", "outcomes"):
        df = frame(study, table)
        assert list(df.columns[:4]) == ["probe_id", "brand", "brand_name", "sector"], table
        named = df.set_index("brand")[["brand_name", "sector"]].drop_duplicates()
        assert named.loc["deutsche-telekom"].tolist() == ["Deutsche Telekom", "Telecommunications"]
        assert named.loc["kaito"].tolist() == ["kaito", ""]


def test_exports_are_unchanged_when_no_import_named_a_brand(tmp_path: Path):
    study = tmp_path / "hand"
    text = "brand,country,channel,sent_at,replied_at\nkaito,DE,x,2026-03-02T12:00:00Z,\n"
    import_csv(study, write(tmp_path, text), 72)
    assert "brand_name" not in frame(study, "probes").columns
    assert "brand_name" not in frame(study, "outcomes").columns


def test_a_brand_named_two_ways_is_refused_with_the_line_and_the_fix(tmp_path: Path):
    study = tmp_path / "hand"
    text = (
        f"{HEADER}\n{ROWS}"
        "deutsche-telekom,Telekom,Telecommunications,FR,x,2026-03-04T10:00:00Z,\n"
        "deutsche-telekom,Deutsche Telekom,Telecom,NL,x,2026-03-05T10:00:00Z,\n"
    )
    csv_path = write(tmp_path, text)
    assert problems(study, csv_path) == [
        f"{csv_path}:5: brand 'deutsche-telekom' has brand_name 'Telekom' here but 'Deutsche "
        "Telekom' on line 2; write one brand_name on every row of a brand",
        f"{csv_path}:6: brand 'deutsche-telekom' has sector 'Telecom' here but "
        "'Telecommunications' on line 2; write one sector on every row of a brand",
    ]
    assert not journal_path(study).exists()


def test_an_empty_name_on_one_row_of_a_named_brand_is_refused(tmp_path: Path):
    csv_path = write(tmp_path, f"{HEADER}\n{ROWS}kaito,Kaito Motors,,FR,x,2026-03-04T10:00:00Z,\n")
    assert problems(tmp_path / "hand", csv_path) == [
        f"{csv_path}:5: brand 'kaito' has brand_name 'Kaito Motors' here but '' on line 4; "
        "write one brand_name on every row of a brand",
    ]


def test_a_later_import_must_keep_the_journals_names(tmp_path: Path):
    study = tmp_path / "hand"
    import_csv(study, write(tmp_path, f"{HEADER}\n{ROWS}"), 72)
    before = journal_path(study).read_bytes()
    later = write(
        tmp_path,
        f"{HEADER}\ndeutsche-telekom,DTAG,,FR,x,2026-03-04T10:00:00Z,\n",
        "later.csv",
    )
    assert problems(study, later) == [
        f"{later}:2: brand 'deutsche-telekom' has brand_name 'DTAG' here but 'Deutsche "
        "Telekom' in the journal (an earlier import); write 'Deutsche Telekom', or import "
        "into a new study folder",
    ]
    assert journal_path(study).read_bytes() == before
    # A later file may name a brand the first left unnamed, and leave a named one blank.
    fine = write(
        tmp_path,
        f"{HEADER}\nkaito,Kaito Motors,Automotive,FR,x,2026-03-04T10:00:00Z,\n"
        "deutsche-telekom,,,NL,x,2026-03-05T10:00:00Z,\n",
        "fine.csv",
    )
    import_csv(study, fine, 72)
    df = frame(study, "probes").drop_duplicates("brand").set_index("brand")
    assert df.loc["kaito", "brand_name"] == "Kaito Motors"
    assert df.loc["deutsche-telekom", "brand_name"] == "Deutsche Telekom"


def test_a_name_with_a_control_character_is_refused(tmp_path: Path):
    csv_path = write(tmp_path, f"{HEADER}\nkaito,Kaito\u202eMotors,,DE,x,2026-03-02T10:00:00Z,\n")
    [line] = problems(tmp_path / "hand", csv_path)
    assert line.startswith(f"{csv_path}:2: brand_name holds a hidden direction control")
