"""Instants at the journal's doors: four-digit years, and the study years every time must
lie in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from study.timeutil import check_instant, in_range, iso, parse_instant, parse_iso


def test_iso_writes_every_year_with_four_digits_so_text_order_is_time_order() -> None:
    early, late = datetime(1, 1, 1, tzinfo=UTC), datetime(2026, 3, 2, 9, 5, 7, 4999, tzinfo=UTC)
    assert iso(early) == "0001-01-01T00:00:00.000Z"
    assert iso(late) == "2026-03-02T09:05:07.004Z"
    assert sorted([iso(late), iso(early)]) == [iso(early), iso(late)]
    assert parse_iso(iso(early)) == early


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2026-03-02T10:00:00Z", True),
        ("2000-01-01T00:00:00Z", True),
        ("1999-12-31T23:59:59Z", False),
        ("2100-01-01T00:00:00Z", False),
        ("0001-01-01T00:00:00+00:00", False),
        ("9999-12-31T23:59:59Z", False),
    ],
)
def test_a_time_outside_the_study_years_is_refused(text: str, ok: bool) -> None:
    assert in_range(parse_iso(text)) is ok
    if ok:
        assert parse_instant(text, "sent_at") == parse_iso(text)
    else:
        with pytest.raises(ValueError, match=r"^sent_at .* is out of range: times must lie in "):
            parse_instant(text, "sent_at")


def test_year_one_with_an_offset_is_a_value_error_not_an_overflow() -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_instant("0001-01-01T00:30:00+01:00", "--as-of")
    with pytest.raises(ValueError, match="naive datetime"):
        check_instant(datetime(2026, 1, 1), "t")
