"""X's per-endpoint request budgets, counted in windows of virtual time.

The limits a probe runner meets (posting, reading mentions and DM events, deleting) come
from study/platforms.toml, as the planner and the runner's pacing read them: POST /2/tweets
100 per 15 minutes per user and 10,000 per 24 hours per app, mentions 300, DM events 15,
DELETE 50 per 15 minutes. The rest are X's documented per-user figures; the shared fixtures'
recordings agree where they recorded a user-context call (users/me 75). Those recordings
predate X's 2026 limits (they show POST tweets 200 and dm_events 300): where a platform has
changed its limit, the data file has its current one.

A 24-hour budget answers with X's `x-app-limit-24hour-*` headers (or `x-user-limit-24hour-*`
for a per-user one) beside the 15-minute `x-rate-limit-*` ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from study.platforms import platform

WINDOW = timedelta(minutes=15)
DAY = timedelta(hours=24)

LIMITS: dict[str, int] = {
    "GET /2/users/me": 75,
    "GET /2/users/by/username/:username": 900,
    "GET /2/tweets/:id": 900,
    "GET /2/users/:id/tweets": 900,
    "POST /2/dm_conversations/with/:participant_id/messages": 15,
}
# (limit, window, header prefix) of the budgets beyond the 15-minute ones.
DAILY: dict[str, tuple[int, str]] = {
    "POST /2/dm_conversations/with/:participant_id/messages": (1440, "x-user-limit-24hour"),
}
_HEADER = {"app": "x-app-limit-24hour", "user": "x-user-limit-24hour"}


def _from_rules() -> None:
    """Fill LIMITS and DAILY with the figures of study/platforms.toml."""
    rules = platform("x")
    assert rules is not None, "study/platforms.toml has no [x]"
    for rule in rules.limits:
        if rule.window == WINDOW:
            LIMITS[rule.endpoint] = rule.actions
        elif rule.window == DAY:
            DAILY[rule.endpoint] = (rule.actions, _HEADER[rule.scope])
    # X budgets both DM-event lookups alike (docs.x.com, "Direct Messages lookup").
    LIMITS["GET /2/dm_conversations/with/:participant_id/dm_events"] = LIMITS["GET /2/dm_events"]


_from_rules()


@dataclass
class _Window:
    resets_at: datetime
    used: int


class RateLimiter:
    """Counts requests per endpoint; a window opens at its first request and lasts its
    length (15 minutes, or 24 hours for a daily budget). `lenient` counts nothing."""

    def __init__(
        self,
        limits: Mapping[str, int] | None = None,
        *,
        daily: Mapping[str, tuple[int, str]] | None = None,
        lenient: bool = False,
    ) -> None:
        self.limits = {} if lenient else dict(LIMITS if limits is None else limits)
        self.daily = (
            {} if lenient or limits is not None else dict(DAILY if daily is None else daily)
        )
        self._windows: dict[tuple[str, timedelta], _Window] = {}

    def take(self, endpoint: str, now: datetime) -> tuple[bool, dict[str, str]]:
        """Spend one request; (allowed, the x-rate-limit-* headers to send)."""
        budgets = self._budgets(endpoint)
        if not budgets:
            return True, {}
        windows = [self._window(endpoint, length, now) for _, length, _ in budgets]
        allowed = all(w.used < limit for w, (limit, _, _) in zip(windows, budgets, strict=True))
        if allowed:
            for w in windows:
                w.used += 1
        return allowed, self._headers(budgets, windows)

    def headers(self, endpoint: str, now: datetime) -> dict[str, str]:
        """The headers as they stand, without spending (for injected faults)."""
        budgets = self._budgets(endpoint)
        windows = [self._current(endpoint, length, now) for _, length, _ in budgets]
        return self._headers(budgets, windows)

    def _budgets(self, endpoint: str) -> list[tuple[int, timedelta, str]]:
        budgets = []
        if endpoint in self.limits:
            budgets.append((self.limits[endpoint], WINDOW, "x-rate-limit"))
        if endpoint in self.daily:
            limit, prefix = self.daily[endpoint]
            budgets.append((limit, DAY, prefix))
        return budgets

    def _current(self, endpoint: str, length: timedelta, now: datetime) -> _Window:
        window = self._windows.get((endpoint, length))
        if window is None or now >= window.resets_at:
            return _Window(now + length, 0)
        return window

    def _window(self, endpoint: str, length: timedelta, now: datetime) -> _Window:
        window = self._windows[(endpoint, length)] = self._current(endpoint, length, now)
        return window

    @staticmethod
    def _headers(
        budgets: list[tuple[int, timedelta, str]], windows: list[_Window]
    ) -> dict[str, str]:
        headers = {}
        for (limit, _, prefix), w in zip(budgets, windows, strict=True):
            headers[f"{prefix}-limit"] = str(limit)
            headers[f"{prefix}-remaining"] = str(max(0, limit - w.used))
            headers[f"{prefix}-reset"] = str(int(w.resets_at.timestamp()))
        return headers
