"""Sites rendered once per test session: the example study, and hostile studies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from analysis.publish import publish_data
from reports.render import render_site
from tests.reports.studies import HOSTILE, example_study, hostile_journal, multichannel_study


@dataclass(frozen=True)
class Site:
    study: Path
    data: list[Path]
    root: Path

    def page(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")


def build(study: Path, root: Path) -> Site:
    data = publish_data(study, root / "data")
    render_site(data, root, study)
    return Site(study, data, root)


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The example study's site (10 brands x 17 countries, 501 probes)."""
    tmp = tmp_path_factory.mktemp("example")
    return build(example_study(tmp / "study"), tmp / "site")


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A journal without study.toml whose brand ids, countries, handles and texts are HTML,
    paths and mathtext."""
    tmp = tmp_path_factory.mktemp("hostile")
    return build(hostile_journal(tmp / "study"), tmp / "site")


@pytest.fixture(scope="session")
def named_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The example study with kaito's brand name (from targets.csv) hostile."""
    tmp = tmp_path_factory.mktemp("named")
    return build(example_study(tmp / "study", brand_name=HOSTILE), tmp / "site")


@pytest.fixture(scope="session")
def multichannel_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The multichannel example (6 brands x 3 countries on X, Mastodon, Bluesky and by
    hand, 126 probes); Kaito answers every probe on X and none on Mastodon."""
    tmp = tmp_path_factory.mktemp("multichannel")
    return build(multichannel_study(tmp / "study"), tmp / "site")
