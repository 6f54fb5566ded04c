"""The overview's "Since the last wave" section: present for a study with a previous wave,
absent (and no waves.json) for one without."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.publish import publish_data
from reports.render import render_site
from tests.reports.conftest import Site
from tests.reports.studies import HOSTILE, example_study


def second_wave(tmp: Path, *, brand_name: str | None = None) -> Path:
    example_study(tmp / "wave-1", seed=1)
    two = example_study(tmp / "wave-2", seed=2, brand_name=brand_name)
    toml = two / "study.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("[study]\n", '[study]\nwave = 2\nprevious = "../wave-1"\n', 1))
    return two


def test_a_second_wave_shows_what_changed(tmp_path: Path) -> None:
    two = second_wave(tmp_path, brand_name=HOSTILE)
    data = publish_data(two, tmp_path / "site" / "data", replicates=200)
    assert data[-1].name == "waves.json"
    render_site(data, tmp_path / "site", two)
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    section = index[index.index('<section id="since-last-wave">') :]
    section = section[: section.index("</section>")]
    assert "<h2>Since the last wave</h2>" in section
    assert 'src="charts/index-waves.svg"' in section
    assert (tmp_path / "site" / "charts" / "index-waves.svg").is_file()
    assert "Wave 1 \u2192 Wave 2" in section
    # changes whose interval excludes zero are marked, in bold and with a star
    assert section.count('class="num changed">') >= 3
    assert '+12 pp *<span class="sub">+6 pp to +18 pp</span>' in section  # all brands
    assert "<script>" not in index and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in section
    assert 'href="data/waves.json"' in index


def test_a_study_without_a_previous_wave_has_no_such_section(example_site: Site) -> None:
    assert "since-last-wave" not in example_site.page("index.html")
    assert not (example_site.root / "data" / "waves.json").exists()
    assert not (example_site.root / "charts" / "index-waves.svg").exists()


def test_a_previous_wave_that_is_gone_is_named(tmp_path: Path) -> None:
    from study.errors import StudyProblems

    two = second_wave(tmp_path)
    (tmp_path / "wave-1").rename(tmp_path / "moved")
    with pytest.raises(StudyProblems) as e:
        publish_data(two, tmp_path / "data")
    [problem] = e.value.problems
    assert "previous = '../wave-1' is not a folder" in problem.message
