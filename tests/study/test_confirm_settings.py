"""study.toml's `confirm`: a person confirms each send, on every channel ([study]) or on one
([channels.KIND]) (issue 11 item 5)."""

from __future__ import annotations

from study.load import load_study
from tests.study.conftest import StudyFolder


def test_confirm_is_off_unless_asked_for(folder: StudyFolder) -> None:
    assert load_study(folder.path).confirmed_channels() == frozenset()


def test_confirm_in_a_channel_s_table_asks_it_of_that_channel(folder: StudyFolder) -> None:
    folder.edit("study.toml", "[channels.x]\n", "[channels.x]\nconfirm = true\n")
    assert load_study(folder.path).confirmed_channels() == {"x"}


def test_confirm_in_study_asks_it_of_every_channel(folder: StudyFolder) -> None:
    folder.edit("study.toml", "[study]\n", "[study]\nconfirm = true\n")
    study = load_study(folder.path)
    assert study.confirmed_channels() == {c.name for c in study.channels}


def test_confirm_must_be_true_or_false(folder: StudyFolder) -> None:
    folder.edit("study.toml", "[channels.x]\n", '[channels.x]\nconfirm = "yes"\n')
    line = folder.line_of("study.toml", 'confirm = "yes"')
    assert folder.problems() == [
        f"study.toml:{line}: confirm must be true or false, not 'yes'; write true to have a "
        "person confirm each send of this channel (replybench run --confirm)"
    ]
