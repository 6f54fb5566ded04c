"""The personas on the site: the overview's section with the effect and its interval, each
company's rows by persona, the design and the approval on the method page; nothing of it for
a study without personas; persona attributes escaped."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import anyio
import pytest

from study.paths import journal_path
from tests.analysis.test_personas import persona_study
from tests.e2e.personas import example_copy, run_personas
from tests.e2e.studies import NAMES, team_study
from tests.e2e.test_personas_merge import merge
from tests.reports.conftest import Site, build
from tests.reports.studies import HOSTILE

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"
# The built-in effect, found: an interval written "(a–b)" has both ends at 0 or above.
FOUND = re.compile(
    r"Brands answered personas with followers 5000 (\d+) points \((\d+)\u2013(\d+)\) more "
    r"often than those with followers 40\."
)


@pytest.fixture(scope="module")
def persona_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The personas example, run to its end on the simulator, and its site."""
    tmp = tmp_path_factory.mktemp("personas")
    study = example_copy(tmp / "study")
    anyio.run(run_personas, study)
    return build(study, tmp / "site")


def data(site: Site, name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((site.root / "data" / name).read_text(encoding="utf-8"))


def test_the_examples_persona_effect_is_found_with_an_interval_above_zero(
    persona_site: Site,
) -> None:
    effects = data(persona_site, "metrics.json")["persona_effects"]
    [effect] = effects["persona_followers"]["effects"]
    assert (effect["level"], effect["reference"]) == ("5000", "40")
    assert 0 < effect["difference_low"] < effect["difference"] < effect["difference_high"]
    assert effect["brands"] == 16 and effect["cmh_p"] < 0.05
    # Brands answered every persona 32 times: the design was balanced.
    assert {r["persona"]: r["probes"] for r in data(persona_site, "metrics.json")["groups"][
        "persona"]} == {"jonas": 32, "lena": 32, "maya": 32, "tyler": 32}  # fmt: skip


def test_the_overview_says_the_effect_in_words_with_its_interval(persona_site: Site) -> None:
    index = persona_site.page("index.html")
    assert '<section id="personas">' in index
    [(points, low, high)] = FOUND.findall(index.replace("&#39;", "'"))
    assert 0 < int(low) <= int(points) <= int(high)
    assert "Response by the personas&#39; followers" in index
    assert "Persona effects: each level against the reference level, within brands" in index


def test_company_pages_show_the_brand_by_persona(persona_site: Site) -> None:
    page = persona_site.page("companies/quillon.html")
    section = page[page.index('<section id="personas">') :]
    section = section[: section.index("</section>")]
    for name in ("jonas", "lena", "maya", "tyler"):
        assert f">{name}</th>" in section


def test_the_method_page_states_the_design_and_the_approval(persona_site: Site) -> None:
    page = persona_site.page("methodology.html")
    assert "Balanced (an audit design): every brand was asked equally often" in page
    assert "No persona asked one brand more than 2 times." in page
    assert "country DE; followers 5000; language de" in page  # lena's attributes
    assert "lena_fragt" not in page  # the researchers' own accounts stay unknown
    assert "(reference REC-2026-014) on 2026-01-15." in page


def test_a_study_without_personas_has_no_persona_section(example_site: Site) -> None:
    for page in ("index.html", "methodology.html", "companies/kaito.html"):
        assert 'id="personas"' not in example_site.page(page), page
        assert "persona" not in example_site.page(page).lower(), page
    assert "persona_effects" not in data(example_site, "metrics.json")
    design = data(example_site, "design.json")
    assert not {"personas", "assignment", "approval"} & set(design)


def test_persona_attributes_are_escaped(tmp_path: Path) -> None:
    study = persona_study(tmp_path / "study", followers={"anna": HOSTILE, "ben": "40"})
    site = build(study, tmp_path / "site")
    index = site.page("index.html")
    assert HOSTILE not in index and "<script" not in index.lower()
    assert f"personas with followers {ESCAPED} " in index  # the effect's sentence
    assert f'<th scope="row">{ESCAPED}' in index  # the attribute's table


@pytest.mark.anyio
async def test_the_site_of_merged_persona_runs_shows_every_persona(tmp_path: Path) -> None:
    """A team's three `run --persona` journals merged (tests/e2e/test_personas_merge.py):
    the site built from the merged journal has the persona section with all three."""
    base = team_study(tmp_path / "base")
    journals = []
    for name in NAMES:
        shutil.copytree(base, tmp_path / name)
        await run_personas(tmp_path / name, (name,))
        journals.append(journal_path(tmp_path / name))
    merge(base, journals)
    site = build(base, tmp_path / "site")
    by_persona = data(site, "metrics.json")["groups"]["persona"]
    assert [r["persona"] for r in by_persona] == list(NAMES)
    assert sum(r["probes"] for r in by_persona) == data(site, "metrics.json")["study"]["sent"]
    index = site.page("index.html")
    assert '<section id="personas">' in index
    assert (
        "Brands answered persona ben " in index and "Response by the personas&#39; gender" in index
    )
    method = site.page("methodology.html")
    assert "By country (the UXalliance design)" in method
