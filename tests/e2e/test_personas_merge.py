"""A team's campaign: three personas run apart (`run --persona`), their journals merged, equal
one run of all three; a conflicting journal is refused, a second merge changes nothing, and a
merge cut off at any step leaves the journals as they were."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from study.errors import StudyError
from study.journal import merge as merge_module
from study.journal.merge import merge_journals
from study.journal.status import persona_lines, read_status
from study.load import load_study
from study.paths import journal_path
from study.personas import personas_of
from study.plan import make_plan
from tests.e2e.personas import run_personas
from tests.e2e.studies import NAMES, team_study

pytestmark = pytest.mark.anyio


def rows(study_dir: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The journal's probes and replies, without the times a run's own pace decides (when a
    reply was seen)."""
    con = sqlite3.connect(journal_path(study_dir))
    try:
        probes = con.execute(
            "SELECT probe_id, persona, state, message_id, sent_at, closes_at, closed_at, text "
            "FROM probes ORDER BY probe_id"
        ).fetchall()
        replies = con.execute(
            "SELECT channel, reply_id, probe_id, persona, author, text, created_at, kind "
            "FROM replies ORDER BY channel, reply_id"
        ).fetchall()
    finally:
        con.close()
    return probes, replies


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump(path: Path) -> list[str]:
    """Every table's rows, as SQL text."""
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture
async def team(tmp_path: Path) -> dict[str, Path]:
    """The study folder copied for each member (each runs their persona) and for one run of
    all personas."""
    base = team_study(tmp_path / "base")
    folders = {}
    for name in (*NAMES, "all"):
        folders[name] = tmp_path / name
        shutil.copytree(base, folders[name])
    for name in NAMES:
        await run_personas(folders[name], (name,))
    await run_personas(folders["all"], NAMES)
    folders["base"] = base
    return folders


def merge(study_dir: Path, journals: list[Path]) -> merge_module.MergeSummary:
    study = load_study(study_dir)
    return merge_journals(
        study_dir,
        journals,
        make_plan(study),
        study_name=study.name,
        window_hours=study.window_hours,
        personas=personas_of(study),
        now=make_plan(study)[-1].slot_end_at,
    )


async def test_three_persona_runs_merged_equal_one_run_of_all(team: dict[str, Path]) -> None:
    journals = [journal_path(team[n]) for n in NAMES]
    before = [digest(j) for j in journals]
    summary = merge(team["base"], journals)
    merged, whole = rows(team["base"]), rows(team["all"])
    assert merged == whole
    probes, replies = merged
    assert {p[1] for p in probes} == set(NAMES)  # every persona sent
    assert all(p[2] == "closed" for p in probes)
    assert replies and any(r[2] is not None for r in replies)
    assert summary.probes == len(probes) and summary.replies == len(replies)
    assert [digest(j) for j in journals] == before  # the journals merged are only read
    status = read_status(team["base"])
    assert status.personas == {n: {"closed": 8 if n == "anna" else 4} for n in NAMES}
    assert persona_lines(status)[0] == "persona anna: closed 8 (of 8)"


async def test_merging_twice_changes_nothing(team: dict[str, Path]) -> None:
    journals = [journal_path(team[n]) for n in NAMES]
    merge(team["base"], journals[:2])
    merge(team["base"], journals)
    once = digest(journal_path(team["base"]))
    again = merge(team["base"], journals)
    assert not again.changed
    assert digest(journal_path(team["base"])) == once


async def test_a_journal_of_the_same_persona_run_twice_is_refused(
    team: dict[str, Path], tmp_path: Path
) -> None:
    """Ben run from two places: two posts of each of his probes, and no way to tell which
    the study should keep."""
    twice = tmp_path / "ben-again"
    shutil.copytree(team["base"], twice)
    journal_path(twice).unlink(missing_ok=True)
    await run_personas(twice, ("ben",))
    con = sqlite3.connect(journal_path(twice))
    con.execute("UPDATE attempts SET started_at = '2026-03-03T00:00:00.000Z'")  # other sends
    con.commit()
    con.close()
    target = journal_path(team["anna"])
    before = digest(target)
    with pytest.raises(StudyError, match=r"^probe \S+-x-r1 was moved differently in ") as e:
        merge(team["anna"], [journal_path(team["ben"]), journal_path(twice)])
    assert str(e.value).endswith(
        "nothing was merged. Each persona must be run from one place: merge the journal of "
        "the run that drove it, and leave out the other"
    )
    assert digest(target) == before


async def test_a_journal_of_another_design_is_refused(
    team: dict[str, Path], tmp_path: Path
) -> None:
    other = tmp_path / "cleo-edited"
    shutil.copytree(team["base"], other)
    with (other / "study.toml").open("a", encoding="utf-8") as f:
        f.write("# a comment changes the files, not the plan\n")
    await run_personas(other, ("cleo",))
    target = journal_path(team["anna"])
    before = digest(target)
    with pytest.raises(StudyError, match="made from other study files"):
        merge(team["anna"], [journal_path(team["ben"]), journal_path(other)])
    assert digest(target) == before
    toml = team["ben"] / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("seed = 20260302", "seed = 7"))
    with pytest.raises(StudyError, match="made from another plan than this study's"):
        merge(team["ben"], [journal_path(team["anna"])])


@pytest.mark.parametrize("step", ["_apply", "_settle", "replace"])
async def test_a_merge_cut_off_at_any_step_loses_nothing(
    team: dict[str, Path], step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    journals = [journal_path(team[n]) for n in ("ben", "cleo")]
    target = journal_path(team["anna"])
    before = [dump(target), *(digest(p) for p in journals)]

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # as a kill would stop it: nothing after this step runs

    if step == "replace":
        monkeypatch.setattr(merge_module.os, "replace", killed)
    else:
        monkeypatch.setattr(merge_module, step, killed)
    with pytest.raises(KeyboardInterrupt):
        merge(team["anna"], journals)
    monkeypatch.undo()
    # The journals merged are as they were, byte for byte; the study's holds what it held
    # (folding its WAL into the file, the last step before the rename, changes no row).
    assert [dump(target), *(digest(p) for p in journals)] == before
    assert sorted(p.name for p in target.parent.iterdir() if p.name.endswith(".merge")) == []
    merge(team["anna"], journals)  # and the merge, run again, completes
    assert rows(team["anna"]) == rows(team["all"])
