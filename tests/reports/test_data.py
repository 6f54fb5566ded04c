"""File names from brand and country identifiers, and reading the data files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.data import Steps, load, slugs
from study.errors import StudyError

SAFE = re.compile(r"[a-z0-9][a-z0-9_-]*")


def test_plain_identifiers_keep_their_names_in_lower_case() -> None:
    assert slugs(["kaito", "DE", "brand_2", "a-b"]) == {
        "kaito": "kaito",
        "DE": "de",
        "brand_2": "brand_2",
        "a-b": "a-b",
    }


def test_unsafe_identifiers_get_a_cleaned_name_and_a_hash() -> None:
    out = slugs(["../../etc/passwd", "<script>alert(1)</script> & Co", "", "con", "x" * 99])
    assert re.fullmatch(r"etc-passwd-[0-9a-f]{8}", out["../../etc/passwd"])
    assert re.fullmatch(
        r"script-alert-1-script-co-[0-9a-f]{8}", out["<script>alert(1)</script> & Co"]
    )
    assert re.fullmatch(r"x-[0-9a-f]{8}", out[""])
    assert re.fullmatch(r"con-[0-9a-f]{8}", out["con"])  # a device name on Windows
    assert len(out["x" * 99]) <= 69


def test_names_differing_only_in_case_get_different_files() -> None:
    out = slugs(["Kaito", "kaito", "KAITO"])
    assert out["kaito"] == "kaito"
    assert len({s.lower() for s in out.values()}) == 3


@given(st.lists(st.text(max_size=30), max_size=20))
def test_every_name_is_safe_and_unique(ids: list[str]) -> None:
    out = slugs(ids)
    assert set(out) == set(ids)
    assert len(set(out.values())) == len(out)
    for stem in out.values():
        assert SAFE.fullmatch(stem), stem


def test_a_step_curve_is_read_as_a_step_function() -> None:
    s = Steps((0.0, 1.0, 5.0), (1.0, 0.75, 0.5))
    assert [s.answered_by(h) for h in (0.5, 1.0, 4.9, 5.0, 72.0)] == [0, 0.25, 0.25, 0.5, 0.5]


def test_a_missing_data_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match=r"outcomes.csv: missing; write the site's data first"):
        load(tmp_path)
