"""Issue 9: an import without --observed-until left windows open, and the page said "watched
for 72 hours each" with a response rate of 67% beside "<= 72 h: 100%". Import warns, and
analyze, the index and the company page say how many probes are still open and what the two
figures mean; the company page also gives the time to a substantive answer."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reports.conftest import build
from tests.test_cli import invoke

CSV = (
    "brand,country,channel,sent_at,replied_at,reply_kind\n"
    "kaito,DE,x,2026-03-02T09:00:00Z,2026-03-02T10:00:00Z,redirect\n"
    "kaito,DE,x,2026-03-03T09:00:00Z,2026-03-03T11:00:00Z,public_reply\n"
    "kaito,DE,x,2026-03-05T18:30:00Z,,\n"  # open: watched for half an hour
    "brenner,DE,x,2026-03-05T19:00:00Z,,\n"
)


def test_open_windows_are_announced_and_explained(tmp_path: Path) -> None:
    data = tmp_path / "hand.csv"
    data.write_text(CSV, encoding="utf-8")
    study = tmp_path / "study"
    code, out, err = invoke("import", str(study), str(data), "--window-hours", "72")
    assert code == 0 and "(1 closed, 3 open)" in out
    assert err.strip() == (
        "warning: 3 of 4 probes are still open: without --observed-until, answers count only "
        "up to 2026-03-05T19:00:00.000Z, the latest time in the data, so these count as "
        "unanswered so far; if the researchers watched longer, import into a new study folder "
        "with --observed-until"
    )
    code, out, _ = invoke("analyze", str(study), "--json", str(tmp_path / "m.json"))
    assert code == 0
    assert "2 of 4 probes are still open (no response yet, the 72-hour window not ended" in out
    result = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert result["study"]["open"] == 2
    kaito = next(g for g in result["groups"]["brand"] if g["brand"] == "kaito")
    assert (kaito["open"], kaito["answered"], kaito["response_rate"]) == (1, 2, 0.6667)
    assert kaito["answered_within_24h"] == 1.0  # Kaplan-Meier: the open one was only watched 0.5 h
    assert (kaito["median_hours"], kaito["answer_median_hours"]) == (1.0, 2.0)  # redirect, reply

    site = build(study, tmp_path / "site")
    index = site.page("index.html")
    assert "except 2 inquiries still open at the as-of time" in index
    assert "watched for 72 hours each." not in index
    page = next((site.root / "companies").glob("kaito*.html")).read_text(encoding="utf-8")
    assert "Still open" in page and "1 of 3" in page
    assert "Median time to a substantive answer" in page
    method = site.page("methodology.html")
    assert "<em>still open</em>" in method and "Time to a substantive answer" in method


def test_an_import_with_observed_until_says_nothing_more(tmp_path: Path) -> None:
    data = tmp_path / "hand.csv"
    data.write_text(CSV, encoding="utf-8")
    code, _, err = invoke(
        "import", str(tmp_path / "s"), str(data), "--window-hours", "72",
        "--observed-until", "2026-03-09T00:00:00Z",
    )  # fmt: skip
    assert code == 0 and err == ""
