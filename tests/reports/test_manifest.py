"""data/manifest.json: what produced a publication, written by report and shown on the
method page (issue 13 item 5)."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
from importlib.metadata import version
from pathlib import Path

from analysis.manifest import fingerprint
from analysis.publish import publish_data
from tests.reports.conftest import Site


def test_the_manifest_names_versions_inputs_and_each_files_checksum(example_site: Site):
    data = example_site.root / "data"
    m = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    assert m["replybench"] == version("replybench")
    assert m["python"] == platform.python_version()
    assert m["libraries"]["duckdb"] == version("duckdb")
    assert m["libraries"]["pandas"] == version("pandas")
    assert m["bootstrap"] == {"replicates": 1000, "seed": 2026}
    metrics = json.loads((data / "metrics.json").read_text(encoding="utf-8"))
    assert m["as_of"] == metrics["study"]["as_of"]
    assert m["study"] == fingerprint(example_site.study)
    assert set(m["study"]["files"]) >= {"study.toml", "targets.csv", "scripts.csv"}
    names = [p.name for p in example_site.data if p.name != "manifest.json"]
    assert sorted(m["files"]) == sorted(names)
    for name in names:
        raw = (data / name).read_bytes()
        assert m["files"][name] == {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}


def test_the_fingerprint_changes_with_the_study_files(example_site: Site, tmp_path: Path):
    copy = tmp_path / "study"
    shutil.copytree(example_site.study, copy)
    before = fingerprint(copy)["sha256"]
    assert before == fingerprint(example_site.study)["sha256"]
    with (copy / "scripts.csv").open("a", encoding="utf-8") as f:
        f.write("\n")
    assert fingerprint(copy)["sha256"] != before


def test_the_seed_and_replicates_given_are_recorded(example_site: Site, tmp_path: Path):
    paths = publish_data(example_site.study, tmp_path / "data", replicates=200, seed=7)
    m = json.loads(paths[-1].read_text(encoding="utf-8"))
    assert paths[-1].name == "manifest.json"
    assert m["bootstrap"] == {"replicates": 200, "seed": 7}


def test_the_method_page_shows_the_manifest(example_site: Site):
    page = example_site.page("methodology.html")
    m = json.loads((example_site.root / "data" / "manifest.json").read_text(encoding="utf-8"))
    assert 'id="manifest"' in page
    assert m["study"]["sha256"] in page
    assert m["files"]["metrics.json"]["sha256"] in page
    assert f"duckdb</th><td>{version('duckdb')}<" in page
    assert 'href="data/manifest.json"' in page


def test_the_site_folder_lists_the_manifest(example_site: Site):
    listed = (example_site.root / ".replybench-site").read_text(encoding="utf-8")
    assert "data/manifest.json" in listed.splitlines()
