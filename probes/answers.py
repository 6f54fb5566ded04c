"""Reading what a platform answers, defensively: bodies, ids, instants, resets and its clock.

A platform is a program we do not control: it may answer a 200 with an HTML page or half a
JSON document, hand out a 40-digit id, a rate-limit reset in the year 9999, or a body of
50 MB. Everything the adapters read from an answer goes through here, so that an odd value
is clamped or refused with a clear error, never a crash after a send:

- a body is read in chunks and refused past `MAX_BODY_BYTES` (memory stays bounded);
- a read's body must be the JSON it should be, else the read failed (`Unreadable`): an
  unreadable inbox is never an empty one;
- ids are text of bounded length, instants fall within `EARLIEST`..`LATEST`, a rate-limit
  reset lies at most `MAX_RESET` ahead (the clamped ones say so);
- the platform's clock is learnt from its `Date` headers, so that a look-up window can be
  set on the platform's clock rather than ours (RFC 9110 section 6.6.1: an origin server
  with a clock sends Date in every response).
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from probes.channels.base import Unreadable
from study.timeutil import from_epoch, parse_iso

# One page of an inbox is tens to hundreds of kB (100 posts with their authors on X, 80
# notifications on Mastodon): 4 MB is ten times the largest, and what a runner may hold.
MAX_BODY_BYTES = 4 * 1024 * 1024
# No platform asks a client to wait a day; a reset further ahead is clamped to this.
MAX_RESET = timedelta(hours=24)
# A Date header further than this from our clock is not believed (a broken server).
MAX_CLOCK_OFFSET = timedelta(days=1)
MAX_ID_CHARS = 512  # an at:// uri is ~80 characters, an X or Mastodon id at most 20
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # before any platform a study can probe
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # far enough, and far from datetime's end

JSON = dict[str, Any]


# -- bodies -----------------------------------------------------------------------------------


class BodyTooLarge(Exception):
    """A body longer than the cap: its reading was stopped there."""


async def read_capped(
    chunks: AsyncIterator[bytes], declared: str | None, limit: int = MAX_BODY_BYTES
) -> bytes:
    """The whole body, read chunk by chunk; BodyTooLarge as soon as it passes `limit` bytes
    (before reading any of it when its Content-Length already says so)."""
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"a body of {int(declared)} bytes (the limit is {limit})")
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"a body of more than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def json_value(content: bytes, what: str) -> object:
    """The JSON of a body; Unreadable when it is anything else (an HTML page, a cut-off
    document, numbers Python refuses)."""
    try:
        return json.loads(content)
    except (ValueError, RecursionError) as exc:
        start = content[:60].decode("utf-8", "replace").strip().splitlines()
        seen = f"; it begins {start[0]!r}" if start else "; it is empty"
        raise Unreadable(f"{what} answered something that is not JSON{seen}") from exc


def as_object(body: object) -> JSON:
    """The body as a JSON object; anything else (a list, a string) reads as empty."""
    return body if isinstance(body, dict) else {}


# -- values -----------------------------------------------------------------------------------


def platform_id(value: object) -> str | None:
    """An id as text: a string or an integer of at most MAX_ID_CHARS characters; None for
    anything else (a float, an object, an empty or endless string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value.bit_length() > 3 * MAX_ID_CHARS:  # str() of it would pass the length anyway
            return None
        value = str(value)
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS and value.isprintable():
        return value
    return None


def sane(when: datetime | None) -> datetime | None:
    """`when` if it lies between EARLIEST and LATEST, else None."""
    return when if when is not None and EARLIEST <= when < LATEST else None


def instant(value: object) -> datetime | None:
    """An ISO 8601 time from a platform, None if absent, unreadable or out of range."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        return sane(parse_iso(value))
    except ValueError:
        return None


def epoch_ms(ms: int) -> datetime | None:
    """Milliseconds since 1970 as an instant, None out of range."""
    seconds = ms / 1000
    if not EARLIEST.timestamp() <= seconds < LATEST.timestamp():
        return None
    return from_epoch(seconds)


# -- rate-limit resets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reset:
    """When a platform said a budget comes back, no later than MAX_RESET from now; `said`
    keeps its own words when they were clamped."""

    at: datetime
    said: str | None = None


def parse_reset(text: str | None, now: datetime) -> Reset | None:
    """A reset from epoch seconds or ISO 8601, clamped to now + MAX_RESET; None when absent
    or unreadable. 1e20, inf and the year 9999 are far future, hence clamped."""
    if text is None or not text.strip():
        return None
    s = text.strip()[:64]
    when: datetime | None
    try:
        seconds = float(s)
    except ValueError:
        try:
            when = parse_iso(s)
        except ValueError:
            return None
    else:
        if math.isnan(seconds):
            return None
        try:
            when = from_epoch(seconds)
        except (OverflowError, ValueError, OSError):
            if seconds < 0:
                return None
            when = None  # beyond any date: far future
    latest = now + MAX_RESET
    if when is None or when > latest:
        return Reset(latest, said=s)
    return Reset(when)


# -- the platform's clock ---------------------------------------------------------------------


def clock_offset(date_header: str | None, now: datetime) -> timedelta | None:
    """How far the platform's clock (its Date header) is ahead of ours, or None when there
    is no believable Date. Date is whole seconds and stamped before the answer travelled, so
    the offset errs early: a look-up window set with it only widens."""
    if not date_header or len(date_header) > 64:
        return None
    try:
        theirs = parsedate_to_datetime(date_header)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if theirs.tzinfo is None:
        theirs = theirs.replace(tzinfo=UTC)  # "-0000": UTC, origin unknown (RFC 5322)
    offset = theirs - now
    return offset if abs(offset) <= MAX_CLOCK_OFFSET else None
