"""Instants: timezone-aware UTC datetimes inside, ISO 8601 text at the edges."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(dt: datetime) -> datetime:
    """Return `dt` in UTC; a naive datetime is a bug, not an input."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: every instant must carry its time zone")
    return dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a trailing Z: sorts as text, reads as time."""
    d = utc(dt)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 with an offset or Z; raises ValueError on a naive or bad time."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; add one, e.g. 'Z' or '+01:00'")
    return dt.astimezone(UTC)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
