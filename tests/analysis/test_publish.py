"""The site's data files: what publish_data writes, checked against the analysis."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from analysis import analyze
from analysis.outcomes import outcomes_frame, prepare
from analysis.publish import FILES, breakdowns, publish_data
from study.errors import StudyError, StudyProblems
from study.paths import journal_path
from tests.reports.studies import HOSTILE_REPLY, T0, Row, example_study, write_journal


def load(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    study = example_study(tmp_path_factory.mktemp("publish") / "study")
    paths = publish_data(study, study / "published")
    return study, {p.name: p for p in paths}


def test_every_file_is_written_and_metrics_is_what_analyze_returns(example) -> None:
    study, files = example
    assert list(files) == list(FILES)
    assert load(files["metrics.json"]) == json.loads(json.dumps(analyze(study)))


def test_outcomes_csv_has_one_row_per_sent_probe(example) -> None:
    study, files = example
    rows = list(csv.DictReader(io.StringIO(files["outcomes.csv"].read_text("utf-8"))))
    m = load(files["metrics.json"])
    assert len(rows) == m["study"]["sent"] == 501
    assert rows[0]["sent_at"].endswith("Z") and rows[0]["observed"] in ("true", "false")
    answered = [r for r in rows if r["observed"] == "true"]
    assert len(answered) == m["groups"]["overall"][0]["answered"]
    assert all(r["first_response_at"] and not r["censored_at"] for r in answered)


def test_brand_by_slot_is_the_brand_statistics_of_that_slot_alone(example, tmp_path) -> None:
    study, files = example
    rows = load(files["breakdowns.json"])["brand_slot"]  # type: ignore[index]
    weekend = {r["brand"]: r for r in rows if r["slot"] == "weekend"}
    alone = tmp_path / "weekend"
    journal_path(alone).parent.mkdir(parents=True)
    con = sqlite3.connect(journal_path(alone))
    con.execute("ATTACH ? AS src", (str(journal_path(study)),))
    con.executescript(
        "CREATE TABLE meta AS SELECT * FROM src.meta;"
        "CREATE TABLE probes AS SELECT * FROM src.probes WHERE slot = 'weekend';"
        "CREATE TABLE replies AS SELECT * FROM src.replies;"
        "CREATE TABLE ratings AS SELECT * FROM src.ratings;"
        "CREATE TABLE cursors AS SELECT * FROM src.cursors;"
        "CREATE TABLE events AS SELECT * FROM src.events;"
    )
    con.close()
    for brand_row in analyze(alone)["groups"]["brand"]:
        mine = {k: v for k, v in weekend[brand_row["brand"]].items() if k != "slot"}
        # (the time to a substantive answer is worked out for whole brands only)
        assert mine == {k: v for k, v in brand_row.items() if not k.startswith("answer_")}


def test_breakdowns_leave_the_outcomes_as_they_were(example) -> None:
    study, _ = example
    prepared = prepare(study)
    try:
        before = outcomes_frame(prepared.con)
        out = breakdowns(prepared.con, prepared.info.window_hours)
        after = outcomes_frame(prepared.con)
    finally:
        prepared.con.close()
    assert before.equals(after)
    assert {r["scope"] for r in out["brand_scope"]} == {"local", "global"}
    assert {r["channel"] for r in out["brand_channel"]} == {"x"}


def test_kinds_and_curves(example) -> None:
    _, files = example
    b = load(files["breakdowns.json"])
    field = b["field_kinds"]  # type: ignore[index]
    assert field["probes"] == 501
    assert field["responses"] == field["public_reply"] + field["direct_message"] + field["redirect"]
    assert sum(k["probes"] for k in b["kinds"]) == 501  # type: ignore[index]
    lines = files["curves.csv"].read_text("utf-8").splitlines()
    assert lines[0] == "grouping,brand,time_hours,survival,at_risk,responses"
    assert lines[1] == "overall,,0.0,1.0,501,0"
    assert sum(1 for line in lines if line.startswith("brand,") and ",0.0,1.0," in line) == 10


def test_the_design_comes_from_study_toml_without_credentials(example) -> None:
    _, files = example
    text = files["design.json"].read_text("utf-8")
    design = json.loads(text)
    assert design["known"] is True and design["source"] == "campaign"
    assert [t["scope"] for t in design["targets"]].count("none") == 3
    assert [s["name"] for s in design["slots"]] == ["business", "evening", "weekend"]
    assert sum(s["probes"] for s in design["slots"]) == 501
    assert "REPLYBENCH_X_" not in text and "replybenchprobe" not in text


def test_exchanges_show_the_median_reply_of_each_kind_with_its_texts(tmp_path: Path) -> None:
    def probe(k: int, after: float | None, kind: str = "public_reply") -> Row:
        return Row(f"p{k}", "kaito", "DE", "KaitoDE", "local", "business",
                   T0 + timedelta(hours=k), f"inquiry {k} <b>", after, kind,
                   reply=f"reply {k} {HOSTILE_REPLY}", auto_ack=k == 4)  # fmt: skip

    write_journal(tmp_path, [probe(1, 1.0), probe(2, 2.0), probe(3, 10.0), probe(4, 3.0,
                  "redirect"), probe(5, None)])  # fmt: skip
    con = sqlite3.connect(journal_path(tmp_path))
    con.execute(  # a stranger's earlier reply is never shown
        "INSERT INTO replies (channel, reply_id, probe_id, author, author_id, text, created_at,"
        " kind, seen_at) VALUES ('x', 's1', 'p4', 'stranger', 'id', 'spam', ?, 'redirect', ?)",
        ("2026-03-02T13:30:00.000Z", "2026-03-02T13:30:00.000Z"),
    )
    con.commit()
    con.close()
    files = {p.name: p for p in publish_data(tmp_path, tmp_path / "out")}
    shown = load(files["exchanges.json"])
    assert [(e["kind"], e["probe_id"]) for e in shown] == [  # type: ignore[union-attr]
        ("public_reply", "p2"),
        ("redirect", "p4"),
        ("auto_ack", "p4"),
    ]
    first = shown[0]  # type: ignore[index]
    assert first["inquiry_text"] == "inquiry 2 <b>"
    assert first["reply_text"] == f"reply 2 {HOSTILE_REPLY}" and first["hours"] == 2.0
    assert shown[1]["author"] == "KaitoDE"  # type: ignore[index]
    assert shown[2]["reply_text"] == "This is an automatic reply."  # type: ignore[index]
    design = load(files["design.json"])
    assert design["known"] is False  # type: ignore[index]
    assert design["countries"] == [  # type: ignore[index]
        {"code": "DE", "name": "Germany", "timezone": None, "language": None}
    ]
    assert design["slots"][0]["probes"] == 5  # type: ignore[index]


def test_a_missing_journal_or_a_broken_study_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="no journal yet"):
        publish_data(tmp_path, tmp_path / "out")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "study.toml").write_text("[study]\nname = 1\n", encoding="utf-8")
    with pytest.raises(StudyProblems):
        publish_data(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()
