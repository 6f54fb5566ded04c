"""Stated service hours: parsing, every instant inside or outside (DST included), and
targets.csv's optional service_hours column (issue 13 item 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from study.load import load_study
from study.service_hours import ServiceHours, Span, parse_service_hours
from tests.study.conftest import StudyFolder

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
# The UTC instants the clocks changed in 2026: Berlin 29 Mar 01:00Z and 25 Oct 01:00Z; New
# York 8 Mar 07:00Z and 1 Nov 06:00Z.
CHANGES = {
    BERLIN: (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)),
    NEW_YORK: (datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)),
}
# Ranges that begin or end in the hour a change skips or repeats (02:00-03:00 in Berlin,
# 01:00-02:00 in New York), on the Sunday of the change.
AROUND = "sun 01:30-02:30, 03:00-24:00; mon-sat 06:00-20:00"


def test_the_issue_example_is_read_as_written():
    h = parse_service_hours("mon-fri 06:00-20:00; sat 08:00-14:00")
    assert h.spans == (
        Span(frozenset({0, 1, 2, 3, 4}), 6 * 60, 20 * 60),
        Span(frozenset({5}), 8 * 60, 14 * 60),
    )


@pytest.mark.parametrize(
    ("text", "days", "ranges"),
    [
        ("daily 00:00-24:00", set(range(7)), [(0, 1440)]),
        ("fri-mon 09:00-17:00", {4, 5, 6, 0}, [(540, 1020)]),
        ("Mon,Wed 09:00-12:00, 13:00-17:30", {0, 2}, [(540, 720), (780, 1050)]),
        ("  sat 8:00-14:00 ;", {5}, [(480, 840)]),
    ],
)
def test_days_ranges_and_several_ranges_a_day(text: str, days: set[int], ranges: list[tuple]):
    h = parse_service_hours(text)
    assert [(s.start, s.end) for s in h.spans] == ranges
    assert all(s.days == frozenset(days) for s in h.spans)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mon-Fri 6-20", "'6-20' in 'Mon-Fri 6-20' is not a time range; write it as HH:MM-HH:MM"),
        ("fri 22:00-02:00", "split a range past midnight in two, e.g. 'fri 22:00-24:00;"),
        ("weekdays 09:00-17:00", "'weekdays' in 'weekdays 09:00-17:00' is not a day; use mon"),
        ("mon-fri", "'mon-fri' names days but no hours; write e.g. 'mon-fri 09:00-17:00'"),
        ("mon 09:00-24:30", "'24:30' in 'mon 09:00-24:30' is not a time of day"),
        (";", "states no hours; write e.g. 'mon-fri 06:00-20:00; sat 08:00-14:00'"),
    ],
)
def test_a_bad_entry_says_what_and_how_to_write_it(text: str, message: str):
    with pytest.raises(ValueError) as e:
        parse_service_hours(text)
    assert message in str(e.value)


def test_a_bad_entry_in_targets_csv_is_named_with_its_line_and_fix(folder: StudyFolder):
    text = folder.text("targets.csv").splitlines()
    rows = [text[0] + ",service_hours"] + [r + "," for r in text[1:]]
    rows[2] = rows[2][:-1] + ",Mon-Fri 6-20"
    folder.write("targets.csv", "\n".join(rows) + "\n")
    assert folder.problems() == [
        "targets.csv:3: service_hours '6-20' in 'Mon-Fri 6-20' is not a time range; write it "
        "as HH:MM-HH:MM, e.g. 06:00-20:00"
    ]


def test_the_column_is_optional_and_reaches_the_targets(folder: StudyFolder):
    assert {t.service_hours for t in load_study(folder.path).targets} == {""}
    text = folder.text("targets.csv").splitlines()
    rows = [text[0] + ",service_hours"] + [r + "," for r in text[1:]]
    rows[1] = rows[1][:-1] + ',"mon-fri 06:00-20:00; sat 08:00-14:00"'
    folder.write("targets.csv", "\n".join(rows) + "\n")
    [first] = [t for t in load_study(folder.path).targets if t.line == 2]
    assert (first.brand, first.country) == ("northwind", "US")
    assert first.service_hours == "mon-fri 06:00-20:00; sat 08:00-14:00"


def near_a_change(zone: str) -> st.SearchStrategy[datetime]:
    """UTC instants within three hours of one of `zone`'s 2026 clock changes."""
    return st.tuples(st.sampled_from(CHANGES[zone]), st.integers(-3 * 3600, 3 * 3600)).map(
        lambda p: p[0] + timedelta(seconds=p[1])
    )


# Standard and summer offsets (hours) of the two zones, for a wall clock worked out by hand.
OFFSETS = {BERLIN: (1, 2), NEW_YORK: (-5, -4)}


def wall_clock(instant: datetime, zone: str) -> datetime:
    """The local wall-clock time near one of the zone's changes, by hand: summer time runs
    from the spring change (inclusive) to the autumn one (exclusive)."""
    spring, autumn = CHANGES[zone]
    standard, summer = OFFSETS[zone]
    offset = summer if spring <= instant < autumn else standard
    return (instant + timedelta(hours=offset)).replace(tzinfo=None)


def by_hand(hours: ServiceHours, local: datetime) -> bool:
    m = local.hour * 60 + local.minute
    return any(local.weekday() in s.days and s.start <= m < s.end for s in hours.spans)


@given(zone=st.sampled_from([BERLIN, NEW_YORK]), data=st.data())
def test_every_instant_near_a_clock_change_is_inside_or_outside_by_its_wall_clock(
    zone: str, data: st.DataObject
):
    instant = data.draw(near_a_change(zone))
    hours = parse_service_hours(AROUND)
    inside = hours.covers(instant, zone)
    assert inside in (True, False)
    assert inside == by_hand(hours, wall_clock(instant, zone))
    # The complement (what the hours leave out of each day) holds exactly the others.
    assert complement(hours).covers(instant, zone) is not inside


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                    timezones=st.just(UTC)))  # fmt: skip
def test_every_instant_is_in_the_hours_or_in_their_complement(instant: datetime):
    hours = parse_service_hours("mon-fri 06:00-20:00; sat 08:00-14:00")
    for zone in (BERLIN, NEW_YORK):
        assert hours.covers(instant, zone) != complement(hours).covers(instant, zone)


def test_the_repeated_autumn_hour_is_classed_by_its_wall_clock_both_times():
    hours = parse_service_hours("sun 01:00-01:30")
    first = datetime(2026, 11, 1, 5, 15, tzinfo=UTC)  # 01:15 EDT
    second = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)  # 01:15 EST
    assert hours.covers(first, NEW_YORK) and hours.covers(second, NEW_YORK)
    assert not hours.covers(first + timedelta(minutes=20), NEW_YORK)


def test_the_skipped_spring_hour_holds_no_instant():
    hours = parse_service_hours("sun 02:00-03:00")
    start, _ = CHANGES[BERLIN]
    minutes = (start + timedelta(minutes=k) for k in range(-180, 180))
    assert not any(hours.covers(t, BERLIN) for t in minutes)


def complement(hours: ServiceHours) -> ServiceHours:
    """Each day's minutes the hours leave out, as spans."""
    spans = []
    for day in range(7):
        taken = sorted((s.start, s.end) for s in hours.spans if day in s.days)
        at = 0
        for start, end in taken:
            if start > at:
                spans.append(Span(frozenset({day}), at, start))
            at = max(at, end)
        if at < 1440:
            spans.append(Span(frozenset({day}), at, 1440))
    return ServiceHours("complement", tuple(spans))
