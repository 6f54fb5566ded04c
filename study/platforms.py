"""The platforms' rules as data: `study/platforms.toml` read into frozen dataclasses.

The planner (`study.budget`), the runner's pacing (`probes.pacing`) and the simulator's
rate limits all read the same file, so a platform's change is made in one place. Channels
without an entry (email, manual) have no platform limit.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

# The runner's fastest inbox poll (probes.runner.RunnerConfig.poll_min_s) and its slowest,
# when the inbox is quiet: the planner prices the reads of a campaign at the fastest.
POLL_MIN_S = 60.0
POLL_MAX_S = 900.0

POST = "post"
POST_WITH_URL = "post_with_url"
ACTIONS = ("post", "mention_read", "dm_read", "request", "login", "delete")


@dataclass(frozen=True)
class Limit:
    """At most `limit` points of `action` in any `window`; each action weighs `points`."""

    action: str
    endpoint: str
    limit: int
    window: timedelta
    scope: str  # "user", "app" or "account"
    source: str
    read_on: date
    points: int = 1

    @property
    def actions(self) -> int:
        """How many of `action` fit in one window."""
        return self.limit // self.points

    def describe(self, platform: str) -> str:
        """E.g. "X's limit of 100 posts per 15 minutes per user"."""
        what = f"{self.actions:,} {_plural(self.action)} per {window_text(self.window)}"
        return f"{platform}'s limit of {what} per {self.scope}"


@dataclass(frozen=True)
class Price:
    action: str
    usd: float
    per: str  # "request" or "resource" (reads are billed per resource returned)
    source: str
    read_on: date


@dataclass(frozen=True)
class Platform:
    kind: str  # the channel kind: "x", "mastodon", "bluesky"
    name: str
    limits: tuple[Limit, ...]
    prices: tuple[Price, ...]
    inbox: tuple[str, ...]  # the reads one inbox poll makes

    def limits_of(self, action: str) -> tuple[Limit, ...]:
        return tuple(x for x in self.limits if x.action == action)

    def price(self, action: str) -> float:
        """US dollars per `action`; 0 when the platform does not charge for it."""
        return next((p.usd for p in self.prices if p.action == action), 0.0)


def window_text(window: timedelta) -> str:
    """ "15 minutes", "3 hours", "24 hours"."""
    minutes = int(window.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _plural(action: str) -> str:
    return {
        "post": "posts",
        "mention_read": "mention reads",
        "dm_read": "DM-event reads",
        "request": "requests",
        "login": "logins",
        "delete": "deletions",
    }.get(action, action)


@cache
def platforms() -> dict[str, Platform]:
    """Every platform in study/platforms.toml, by channel kind."""
    text = resources.files("study").joinpath("platforms.toml").read_text(encoding="utf-8")
    return {kind: _platform(kind, table) for kind, table in tomllib.loads(text).items()}


def platform(kind: str) -> Platform | None:
    """The rules of channel kind `kind`; None for channels without a platform (email, manual)."""
    return platforms().get(kind)


def _platform(kind: str, table: dict[str, Any]) -> Platform:
    limits = tuple(
        Limit(
            action=row["action"],
            endpoint=row["endpoint"],
            limit=int(row["limit"]),
            window=timedelta(minutes=row["window_minutes"]),
            scope=row["scope"],
            source=row["source"],
            read_on=row["read_on"],
            points=int(row.get("points", 1)),
        )
        for row in table.get("limits", [])
    )
    prices = tuple(
        Price(row["action"], float(row["usd"]), row["per"], row["source"], row["read_on"])
        for row in table.get("prices", [])
    )
    unknown = {x.action for x in limits} - set(ACTIONS)
    if unknown:  # a typo in the data file is a bug of replybench, not the researcher's
        raise ValueError(f"study/platforms.toml [{kind}]: unknown action(s) {sorted(unknown)}")
    return Platform(kind, table["name"], limits, prices, tuple(table.get("inbox", ())))
