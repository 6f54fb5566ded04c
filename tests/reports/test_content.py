"""What the pages say, checked against the published numbers; imported studies render."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

from analysis.imports import import_csv
from analysis.twcs import import_twcs
from study.journal.answers import matched_replies
from study.paths import journal_path
from tests.reports.conftest import Site, build

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "analysis"


def metrics(site: Site) -> dict:
    return json.loads((site.root / "data" / "metrics.json").read_text(encoding="utf-8"))


def test_the_index_ranks_brands_as_the_analysis_does(example_site: Site) -> None:
    m = metrics(example_site)
    html = example_site.page("index.html")
    design = json.loads((example_site.root / "data" / "design.json").read_text("utf-8"))
    names = {b["brand"]: b["name"] for b in design["brands"]}
    positions = [html.index(f">{names[r['brand']]}</a>") for r in m["comparisons"]["ranks"]]
    assert positions == sorted(positions)
    overall = m["groups"]["overall"][0]
    assert f"{100 * overall['response_rate']:.0f}%" in html
    assert f"{m['study']['sent']:,}" in html


def test_the_heatmap_marks_global_and_missing_accounts(example_site: Site) -> None:
    html = example_site.page("index.html")
    assert html.count('<td class="none">no account</td>') == 3  # goldcrest KR, fizzco SE, PL
    assert html.count(" global</span>") == 25


def test_a_company_page_tells_its_story(example_site: Site) -> None:
    html = example_site.page("companies/brenner.html")
    assert "<h1>Brenner Automobile</h1>" in html
    assert "No local account in 17 countries; the global account answered" in html
    assert html.count("global @BrennerAuto") == 17
    for section in ("findings", "speed", "countries", "slots", "kinds", "quality", "exchanges"):
        assert f'<section id="{section}"' in html or f'id="{section}"' in html
    assert "Business hours" in html and "Weekends" in html
    assert "&#34;Please DM us&#34; redirect" in html
    assert "have not been rated for quality" in html
    goldcrest = example_site.page("companies/goldcrest.html")
    assert "No account found in 1 country (South Korea)" in goldcrest


def test_a_country_page_ranks_brands_and_lists_those_without_an_account(
    example_site: Site,
) -> None:
    html = example_site.page("countries/kr.html")
    assert "<h1>South Korea <span" in html
    assert html.count('href="../companies/') >= 9
    assert '<section id="no-account">' in html and "Goldcrest" in html


def test_the_method_page_states_the_design_and_the_numbers(example_site: Site) -> None:
    html = example_site.page("methodology.html")
    m = metrics(example_site)
    for text in (
        "Mon\u2013Fri",
        "09:00\u201317:00",
        "72 hours",
        "Holm",
        "Wilson",
        "Greenwood",
        "bootstrap",
        "1,000 bootstrap replicates",
        "tolerance of 10",
        f"{m['study']['probes']:,}",
        "delivery",
        "Brand-country pairs with a local",
    ):
        assert text in html, text  # fmt: skip
    assert "has no study file" not in html


def test_the_method_page_counts_the_dms_left_unmatched(example_site: Site, tmp_path: Path) -> None:
    """A DM that several probes fit is stored unmatched with an `ambiguous` event
    (probes.matching): the analysis counts those events and the method page shows the
    number, so a reader knows how many private answers were not credited to anyone."""
    row = "Direct messages that fit several probes (left unmatched, not counted)"
    assert metrics(example_site)["study"]["ambiguous_dms"] == 0
    study = tmp_path / "study"
    shutil.copytree(example_site.study, study)
    con = sqlite3.connect(journal_path(study))
    for n in range(3):
        con.execute(
            "INSERT INTO events(at, kind, detail) VALUES ('2026-03-03T10:00:00.000Z', "
            "'ambiguous', ?)",
            (f"x {n}: could answer a, b",),
        )
    con.commit()
    con.close()
    site = build(study, tmp_path / "site")
    assert metrics(site)["study"]["ambiguous_dms"] == 3
    html = site.page("methodology.html")
    cell = html[html.index(row) :]
    assert row in example_site.page("methodology.html")
    assert cell.index(">3<") < cell.index("</tr>")


def test_a_study_imported_from_a_csv_renders(tmp_path: Path) -> None:
    import_csv(tmp_path / "study", FIXTURES / "hand_collected.csv", 72)
    site = build(tmp_path / "study", tmp_path / "site")
    html = site.page("methodology.html")
    assert "has no study file" in html and "imported from a CSV file" in html
    assert (site.root / "companies" / "kaito.html").is_file()
    assert "not recorded" in html


def test_a_twcs_corpus_renders(tmp_path: Path) -> None:
    import_twcs(FIXTURES / "twcs_small.csv", tmp_path / "study")
    site = build(tmp_path / "study", tmp_path / "site")
    assert "passive corpus" in site.page("methodology.html")
    assert "Unknown country" in site.page("index.html")


def test_a_study_with_nothing_sent_yet_renders(example_site: Site, tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(example_site.study, study)
    con = sqlite3.connect(journal_path(study))
    con.execute("UPDATE probes SET sent_at = NULL, state = 'planned'")
    con.execute("DELETE FROM replies")
    con.commit()
    con.close()
    site = build(study, tmp_path / "site")
    assert "0 inquiries were sent" in site.page("index.html")
    assert len(list((site.root / "companies").iterdir())) == 10


def test_the_method_page_counts_the_probes_caught_up_after_an_outage(
    example_site: Site, tmp_path: Path
) -> None:
    study = tmp_path / "study"
    shutil.copytree(example_site.study, study)
    con = sqlite3.connect(journal_path(study))
    ids = [r[0] for r in con.execute("SELECT probe_id FROM probes ORDER BY probe_id LIMIT 3")]
    for probe_id in ids + ids[:1]:  # one probe caught up twice counts once
        con.execute(
            "INSERT INTO events(at, kind, probe_id, detail) VALUES "
            "('2026-03-05T00:00:00.000Z', 'caught_up', ?, 'from ... to ...')",
            (probe_id,),
        )
    con.commit()
    con.close()
    site = build(study, tmp_path / "site")
    assert metrics(site)["study"]["caught_up"] == 3
    html = " ".join(site.page("methodology.html").split())
    assert re.search(r"Caught up: moved to a later occurrence of their slot.*?>3<", html)
    assert metrics(example_site)["study"]["caught_up"] == 0


def test_coded_quality_shows_on_the_company_and_method_pages(
    example_site: Site, tmp_path: Path
) -> None:
    study = tmp_path / "study"
    shutil.copytree(example_site.study, study)
    con = sqlite3.connect(journal_path(study))
    # Ratings count for answered probes only (study.journal.answers), as the rating sheets
    # carry them.
    ids = [m.probe_id for m in matched_replies(con) if m.first_response and m.brand == "kaito"]
    assert len(ids) >= 10
    con.executemany(
        "INSERT INTO ratings VALUES (?, ?, ?, ?, '', '2026-04-01T00:00:00.000Z')",
        [(pid, rater, 5 - (k % 2), "yes") for k, pid in enumerate(ids[:10]) for rater in "AB"],
    )
    con.commit()
    con.close()
    site = build(study, tmp_path / "site")
    html = site.page("companies/kaito.html")
    assert "Quality of the first responses, rated blind" in html
    assert "Rated by 2 raters" in html
    assert "Helpful answers: mean satisfaction 4.5 of 5 over 10 rated responses" in html
    assert "95% CI 4.2\u20134.8 (bootstrap)" in html  # 10 rated: at MIN_RATED, an interval
    assert "None of this brand&#39;s responses were rated." in site.page("companies/lumen.html")
    assert "10 responses were rated (20 ratings by 2 raters)" in site.page("methodology.html")
