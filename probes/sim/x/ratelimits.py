"""X's per-endpoint request budgets, counted in 15-minute windows of virtual time.

The limits are X's per-user limits (the probe account's token is a user's). Where the shared
fixtures recorded a user-context call they agree: users/me 75, POST tweets 200, DELETE 50,
dm_events 300, POST DM 200. The recordings of lookups and timelines were app-only calls (300,
450, 1500), so those use X's documented per-user figures instead: mentions 180, lookups and
user timelines 900.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)

LIMITS: dict[str, int] = {
    "GET /2/users/me": 75,
    "GET /2/users/by/username/:username": 900,
    "POST /2/tweets": 200,
    "GET /2/tweets/:id": 900,
    "DELETE /2/tweets/:id": 50,
    "GET /2/users/:id/mentions": 180,
    "GET /2/users/:id/tweets": 900,
    "GET /2/dm_events": 300,
    "GET /2/dm_conversations/with/:participant_id/dm_events": 300,
    "POST /2/dm_conversations/with/:participant_id/messages": 200,
}


@dataclass
class _Window:
    resets_at: datetime
    used: int


class RateLimiter:
    """Counts requests per endpoint; a window opens at its first request and lasts 15 min."""

    def __init__(self, limits: Mapping[str, int] | None = None) -> None:
        self.limits = dict(LIMITS if limits is None else limits)
        self._windows: dict[str, _Window] = {}

    def take(self, endpoint: str, now: datetime) -> tuple[bool, dict[str, str]]:
        """Spend one request; (allowed, the x-rate-limit-* headers to send)."""
        limit = self.limits.get(endpoint)
        if limit is None:
            return True, {}
        window = self._windows.get(endpoint)
        if window is None or now >= window.resets_at:
            window = self._windows[endpoint] = _Window(now + WINDOW, 0)
        allowed = window.used < limit
        if allowed:
            window.used += 1
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(limit - window.used),
            "x-rate-limit-reset": str(int(window.resets_at.timestamp())),
        }
        return allowed, headers

    def headers(self, endpoint: str, now: datetime) -> dict[str, str]:
        """The headers as they stand, without spending (for injected faults)."""
        limit = self.limits.get(endpoint)
        if limit is None:
            return {}
        window = self._windows.get(endpoint)
        if window is None or now >= window.resets_at:
            return {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": str(limit),
                "x-rate-limit-reset": str(int((now + WINDOW).timestamp())),
            }
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(limit - window.used),
            "x-rate-limit-reset": str(int(window.resets_at.timestamp())),
        }
