"""The platforms' rate-limit headers, read: how many requests an endpoint's budget allows,
how many are left, and when it resets.

Each platform names its headers differently (X: `x-rate-limit-*` and the 24-hour
`x-app-limit-24hour-*`; Mastodon: `X-RateLimit-*` with an ISO 8601 reset; Bluesky:
`RateLimit-*`); the adapter passes the names in. A reset more than a day ahead is clamped to a
day ahead (probes.answers.parse_reset) and logged, so a hostile or broken header cannot park
the runner for ever.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from probes.answers import parse_reset
from probes.channels.base import RateLimit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimitHeaders:
    """The names a platform gives its rate-limit headers (case does not matter)."""

    limit: str
    remaining: str
    reset: str  # epoch seconds (X, Bluesky) or ISO 8601 (Mastodon): both are understood
    # Further budgets the same answer may report (X's 24-hour ones): a spent one wins.
    also: tuple[RateLimitHeaders, ...] = ()


def _int_or_none(text: str | None) -> int | None:
    if text is None or len(text) > 20:  # no budget has more than 20 digits
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def read_rate_limit(
    endpoint: str, headers: Mapping[str, str], names: RateLimitHeaders, now: datetime
) -> RateLimit | None:
    """The budget a response reports for `endpoint`, or None when it reports none. A reset
    more than a day ahead of `now` is clamped to a day ahead, and says so. Of several budgets
    (`names.also`), the spent one that resets last, else the first."""
    found = [_one_limit(endpoint, headers, n, now) for n in (names, *names.also)]
    spent = [x for x in found if x is not None and x.remaining == 0 and x.reset_at is not None]
    if spent:
        return max(spent, key=lambda x: x.reset_at or now)
    return found[0]


def _one_limit(
    endpoint: str, headers: Mapping[str, str], names: RateLimitHeaders, now: datetime
) -> RateLimit | None:
    limit = _int_or_none(headers.get(names.limit))
    remaining = _int_or_none(headers.get(names.remaining))
    reset = parse_reset(headers.get(names.reset), now)
    if limit is None and remaining is None and reset is None:
        return None
    if reset is not None and reset.said is not None:
        log.warning(
            "%s: the platform's rate-limit reset %r is absurd; waiting at most until %s",
            endpoint, reset.said, reset.at,
        )  # fmt: skip
    return RateLimit(
        endpoint,
        limit,
        remaining,
        None if reset is None else reset.at,
        None if reset is None else reset.said,
    )
