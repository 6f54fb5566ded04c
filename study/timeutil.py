"""Instants: timezone-aware UTC datetimes inside, ISO 8601 text at the edges.

Every time that enters a journal from outside (a CSV row, a worksheet, a command-line option,
a platform's answer) must lie in `EARLIEST`..`LATEST`: a year typed as 1600 or a platform's
placeholder date (year 1, 9999) would otherwise be stored, and no window around it ever
closes. `check_instant` and `parse_instant` are that one rule; `iso` writes the year with four
digits, so the journal's times keep sorting as text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Social customer service studies begin this millennium; a time outside is a typing slip or a
# placeholder, never an observation.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def utc(dt: datetime) -> datetime:
    """Return `dt` in UTC; a naive datetime is a bug, not an input."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: every instant must carry its time zone")
    return dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a trailing Z: sorts as text, reads as time."""
    d = utc(dt)
    # Not strftime("%Y"): it writes year 1 as "1", which sorts after "2026".
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}."
        f"{d.microsecond // 1000:03d}Z"
    )


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 with an offset or Z; raises ValueError on a naive or bad time."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; add one, e.g. 'Z' or '+01:00'")
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset is before year 1 in UTC
        raise ValueError(f"{text!r} is out of range: {range_text()}") from None


def in_range(dt: datetime) -> bool:
    """Whether `dt` is a plausible time of a study (`EARLIEST` <= dt < `LATEST`)."""
    return EARLIEST <= utc(dt) < LATEST


def range_text() -> str:
    return f"times must lie in the years {EARLIEST.year}-{LATEST.year - 1}"


def check_instant(dt: datetime, what: str) -> datetime:
    """`dt` in UTC; raises ValueError naming `what` when it lies outside the study years."""
    d = utc(dt)
    if not in_range(d):
        written = f"{what} {iso(d)}".strip()
        raise ValueError(f"{written} is out of range: {range_text()}; check the year")
    return d


def parse_instant(text: str, what: str) -> datetime:
    """ISO 8601 `text` with an offset, as a UTC instant within the study years; ValueError
    (naming `what`) otherwise. The one check every door of the journal uses."""
    return check_instant(parse_iso(text), what)


# How far a platform's time for a reply may lie before the probe was sent or after the reply
# was seen (clocks differ) before it is not believed.
REPLY_SLACK = timedelta(hours=24)


def suspect_reply_time(
    created_at: datetime, *, sent_at: datetime | None, seen_at: datetime
) -> bool:
    """Whether a platform's time for a reply is not to be believed: outside the study years,
    well after the reply was seen, or well before the probe it answers was sent. The journal
    then records the reply as suspect and the analysis ignores its time. Adapters may call
    `in_range` on the times they parse; this is the journal's rule, knowing the probe."""
    if not in_range(created_at) or created_at > seen_at + REPLY_SLACK:
        return True
    return sent_at is not None and created_at < sent_at - REPLY_SLACK


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
