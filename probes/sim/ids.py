"""Ids as X makes them: snowflakes that grow with time, stable user ids, opaque page tokens.

A post id is a snowflake: milliseconds since X's epoch (2010-11-04T01:42:54.657Z) shifted left
by 22 bits, with a sequence number in the low bits. Ids therefore sort like their creation
times, which is what makes `since_id` work; the simulator takes the milliseconds from its
virtual clock, so ids sort with virtual time.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from study.timeutil import utc

EPOCH = datetime(2010, 11, 4, 1, 42, 54, 657000, tzinfo=UTC)
SEQUENCE_BITS = 22
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1


def epoch_ms(when: datetime) -> int:
    """Milliseconds from X's epoch to `when`."""
    return (utc(when) - EPOCH) // timedelta(milliseconds=1)


def snowflake(when: datetime, sequence: int = 0) -> int:
    return (epoch_ms(when) << SEQUENCE_BITS) | (sequence & _SEQUENCE_MASK)


def snowflake_time(post_id: int | str) -> datetime:
    """The instant (to the millisecond) a snowflake id was made."""
    return EPOCH + timedelta(milliseconds=int(post_id) >> SEQUENCE_BITS)


class IdMaker:
    """Snowflakes for posts and DM events, strictly increasing even within a millisecond.

    `stamp` is the platform's snowflake of an instant (X's by default; the Mastodon face
    passes Mastodon's)."""

    def __init__(self, stamp: Callable[[datetime], int] = snowflake) -> None:
        self._stamp = stamp
        self._last = 0
        self._lock = threading.Lock()

    def make(self, when: datetime) -> int:
        with self._lock:
            self._last = max(self._stamp(when), self._last + 1)
            return self._last


def user_id(username: str) -> str:
    """A user's id, stable from the handle (X handles are case-insensitive)."""
    digest = hashlib.sha256(username.lower().encode("utf-8")).digest()
    # 18 digits, the length of ids of accounts made since 2018.
    return str(10**17 + int.from_bytes(digest[:8], "big") % (9 * 10**17))


# -- pagination tokens ---------------------------------------------------------------------

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
        if n == 0:
            return out


def make_token(direction: str, position: int) -> str:
    """An opaque page token: `direction` 'n' (older than `position`) or 'p' (newer)."""
    # X's tokens are long lower-case strings; dm_events refuses any under 16 characters.
    body = direction + _base36(position).rjust(13, "0")
    return _PREFIX + body + _check(body)


def read_token(token: str) -> tuple[str, int] | None:
    """(direction, position) of a token made by `make_token`, or None for anything else."""
    if len(token) != len(_PREFIX) + 18 or not token.startswith(_PREFIX):
        return None
    body, check = token[len(_PREFIX) : -4], token[-4:]
    if body[0] not in "np" or _check(body) != check:
        return None
    try:
        return body[0], int(body[1:], 36)
    except ValueError:
        return None


_PREFIX = "7140dib"


def _check(body: str) -> str:
    return _base36(zlib.crc32(body.encode()) % 36**4).rjust(4, "0")
