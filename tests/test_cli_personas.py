"""The command line of a team: `validate` on a persona design, `run --persona`, `merge`."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from probes.campaign import open_journal
from study.load import load_study
from study.paths import journal_path
from study.plan import make_plan
from tests.e2e.studies import TEAM, add_personas, add_wordings
from tests.test_cli import invoke


def team_folder(path: Path) -> Path:
    invoke("init", str(path))
    return add_personas(path, TEAM)


def test_validate_names_the_wordings_two_personas_need(tmp_path: Path) -> None:
    d = team_folder(tmp_path / "s")
    code, out, err = invoke("validate", str(d))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == (
        f"{d / 'scripts.csv'}: 2 personas post on x in 'en' (ben, cleo) but script 'address' "
        "has 1 wording in 'en', and x refuses identical or similar content across accounts; "
        "add rows 'address,...,en,...' with variant 2 to 2 (one wording per persona)"
    )
    rows = (d / "scripts.csv").read_text(encoding="utf-8").splitlines()
    more = [r.replace(",en,", ",en,", 1) + ",2" for r in rows[1:] if ",en," in r]
    more = [r.replace("Hi,", "Hello,").replace("Hello, if", "Hi, if") for r in more]
    add_wordings(d, more, first="")
    code, out, err = invoke("validate", str(d))
    assert code == 0, err


def test_run_refuses_a_persona_the_study_does_not_have(tmp_path: Path) -> None:
    d = team_folder(tmp_path / "s")
    toml = d / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8").split("[personas.cleo]")[0])
    code, _, err = invoke("run", str(d), "--persona", "anna", "--persona", "zed")
    assert code == 2
    assert err.strip() == (
        "Error: --persona zed: the study has no such persona; its personas are anna, ben "
        "(study.toml [personas.NAME], or a channel's name for its one account)"
    )


def _journal_of(folder: Path) -> Path:
    study = load_study(folder)
    open_journal(folder, study, make_plan(study), now=datetime(2026, 3, 1, tzinfo=UTC)).close()
    return journal_path(folder)


def test_merge_makes_the_journal_then_changes_nothing_and_refuses_another_plan(
    tmp_path: Path,
) -> None:
    a = tmp_path / "a"
    invoke("init", str(a))
    b = tmp_path / "b"
    shutil.copytree(a, b)
    source = _journal_of(a)
    code, out, err = invoke("merge", str(b), str(source))
    assert code == 0, err
    assert out.startswith(f"{b}: merged 1 journal(s): 0 probe(s), 0 replies and ")
    code, out, _ = invoke("merge", str(b), str(source))
    assert (code, out) == (0, f"{b}: nothing new in 1 journal(s); the journal is as it was\n")
    toml = b / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("seed = 20260302", "seed = 1"))
    journal_path(b).unlink()
    code, out, err = invoke("merge", str(b), str(source))
    assert code == 1 and out == ""
    assert err.strip() == (
        f"Error: {source}: made from another plan than this study's (the study files or the "
        "seed differ); nothing was merged. Merge only journals of `replybench run` from copies "
        "of the same study folder"
    )
    assert not journal_path(b).exists()
