"""`replybench init`: a small study that loads cleanly, and never over someone's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from study.errors import StudyError
from study.load import load_study
from study.model import Scope
from study.scaffold import init_study


def test_init_writes_a_complete_study_that_loads_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "study"  # parents are created too
    written = init_study(folder)
    assert written == [
        folder / n for n in ("study.toml", "targets.csv", "scripts.csv", "README.md")
    ]
    study = load_study(folder)
    assert {t.brand for t in study.targets} == {"alder", "northwind", "pebble"}
    assert [(c.code, c.language) for c in study.countries] == [("DE", "de"), ("US", "en")]
    assert len(study.targets) == 6
    assert [(t.brand, t.country) for t in study.targets if t.scope is Scope.GLOBAL] == [
        ("alder", "DE")
    ]
    assert [(t.brand, t.country) for t in study.targets if t.scope is Scope.NONE] == [
        ("pebble", "DE")
    ]
    assert [[lang for lang, _ in s.texts] for s in study.scripts] == [["de", "en"]] * 3
    assert [s.name for s in study.slots] == ["business", "evening", "weekend"]
    x = study.channel("x")
    assert (x.api_base, x.account, x.token_env) == ("https://api.x.com", "replybenchprobe", "")
    assert {k: v for k, v in x.options if k.endswith("_env")} == {
        "consumer_key_env": "REPLYBENCH_X_CONSUMER_KEY",
        "consumer_secret_env": "REPLYBENCH_X_CONSUMER_SECRET",
        "access_token_env": "REPLYBENCH_X_ACCESS_TOKEN",
        "access_token_secret_env": "REPLYBENCH_X_ACCESS_TOKEN_SECRET",
    }


def test_the_readme_explains_each_file(tmp_path: Path) -> None:
    init_study(tmp_path / "s")
    readme = (tmp_path / "s" / "README.md").read_text(encoding="utf-8")
    for name in ("study.toml", "targets.csv", "scripts.csv", "REPLYBENCH_X_ACCESS_TOKEN"):
        assert f"`{name}`" in readme


def test_init_into_an_empty_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    assert len(init_study(tmp_path / "s")) == 4


def test_init_refuses_a_folder_that_is_not_empty_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(StudyError) as raised:
        init_study(folder)
    assert str(raised.value) == (
        f"{folder} already exists and is not empty; choose a new folder, or empty this one"
    )
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_init_refuses_a_file(tmp_path: Path) -> None:
    a_file = tmp_path / "study"
    a_file.write_text("", encoding="utf-8")
    with pytest.raises(StudyError) as raised:
        init_study(a_file)
    assert str(raised.value) == (
        f"{a_file} is a file, not a folder; choose a new folder name for the study"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["study"]


def test_init_twice_refuses_the_second_time(tmp_path: Path) -> None:
    init_study(tmp_path / "s")
    before = (tmp_path / "s" / "study.toml").read_bytes()
    with pytest.raises(StudyError):
        init_study(tmp_path / "s")
    assert (tmp_path / "s" / "study.toml").read_bytes() == before
