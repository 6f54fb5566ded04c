"""The service hours a brand states for an account, as targets.csv's `service_hours` gives them.

A value is one or more entries separated by ';', each days and one or more time ranges in
the country's local time: `mon-fri 06:00-20:00; sat 08:00-14:00`, `daily 00:00-24:00`,
`mon,wed 09:00-12:00, 13:00-17:00`. Days are mon..sun, a range of them (`fri-mon` wraps
round the week) or `daily`; a range ends after it starts, at 24:00 at the latest (hours
past midnight go on the next day's entry: `fri 22:00-24:00; sat 00:00-02:00`).

An instant is inside when its local wall-clock time in the country's zone falls in a
range of its local weekday. Every UTC instant has exactly one local time, so every instant
is inside or outside; in the hour a daylight-saving change repeats (autumn), both instants
with the same wall-clock time are classed alike, and the hour it skips (spring) holds none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from study.model import WEEKDAYS

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_RANGE = re.compile(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})")
EXAMPLE = "mon-fri 06:00-20:00; sat 08:00-14:00"


@dataclass(frozen=True)
class Span:
    """Minutes [start, end) of the local day on each of `days` (0 = Monday)."""

    days: frozenset[int]
    start: int  # minutes after local midnight
    end: int  # exclusive; at most 24 * 60


@dataclass(frozen=True)
class ServiceHours:
    text: str  # as written
    spans: tuple[Span, ...]

    def covers_local(self, local: datetime) -> bool:
        """Whether the wall-clock time `local` (its own weekday and time) is inside."""
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        return any(day in s.days and s.start <= minute < s.end for s in self.spans)

    def covers(self, instant: datetime, zone: str) -> bool:
        """Whether the aware `instant` is inside, read in the IANA `zone`."""
        return self.covers_local(instant.astimezone(ZoneInfo(zone)))


def parse_service_hours(text: str) -> ServiceHours:
    """The stated hours in `text`; ValueError says what is wrong and how to write it."""
    spans = []
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        head, _, rest = entry.partition(" ")
        days = _days(head.strip().lower(), entry)
        ranges = [r.strip() for r in rest.split(",")]
        if not rest.strip():
            raise ValueError(f"'{entry}' names days but no hours; write e.g. '{head} 09:00-17:00'")
        for r in ranges:
            m = _RANGE.fullmatch(r)
            if m is None:
                raise ValueError(
                    f"'{r}' in '{entry}' is not a time range; write it as HH:MM-HH:MM, "
                    "e.g. 06:00-20:00"
                )
            start, end = _minutes(m[1], entry), _minutes(m[2], entry)
            if end <= start:
                raise ValueError(
                    f"'{r}' in '{entry}' does not end after it starts; split a range past "
                    f"midnight in two, e.g. 'fri 22:00-24:00; sat 00:00-02:00'"
                )
            spans.append(Span(days, start, end))
    if not spans:
        raise ValueError(f"'{text}' states no hours; write e.g. '{EXAMPLE}', or leave it empty")
    return ServiceHours(text, tuple(spans))


def _days(word: str, entry: str) -> frozenset[int]:
    if word == "daily":
        return frozenset(range(7))
    days: set[int] = set()
    for part in word.split(","):
        first, _, last = part.partition("-")
        a, b = _day(first, entry), _day(last or first, entry)
        days.update((a + k) % 7 for k in range((b - a) % 7 + 1))
    return frozenset(days)


def _day(word: str, entry: str) -> int:
    if word in WEEKDAYS:
        return WEEKDAYS.index(word)
    raise ValueError(
        f"'{word}' in '{entry}' is not a day; use mon, tue, wed, thu, fri, sat, sun, a range "
        f"like mon-fri, or daily (e.g. '{EXAMPLE}')"
    )


def _minutes(hhmm: str, entry: str) -> int:
    m = _TIME.fullmatch(hhmm)
    assert m is not None
    hour, minute = int(m[1]), int(m[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ValueError(f"'{hhmm}' in '{entry}' is not a time of day; use 00:00 to 24:00")
    return hour * 60 + minute
