"""A plan held against the platforms' rules (study/platforms.toml): per probe account, the
busiest 15 minutes, 3 hours and day of its posts against the posting limits, and what the
campaign will cost on the platform.

Windows slide: a plan whose posts never exceed a limit in *any* window of its length also
keeps it in the platform's own fixed windows, however they are aligned. Reads are priced as
the runner makes them: every inbox read of a poll, once a minute (its fastest poll) while a
probe of the account has an open window, each read billed as one resource. X bills reads per
resource returned and each resource once per UTC day, so this is an upper bound.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from study.errors import Problem
from study.model import PlannedProbe, Study
from study.personas import personas_of
from study.plan_text import mention
from study.platforms import (
    POLL_MIN_S,
    POST,
    POST_WITH_URL,
    Limit,
    Platform,
    platform,
    window_text,
)
from study.timeutil import iso

# The windows `plan` shows for every account, whether or not its platform limits them.
SHOWN = (timedelta(minutes=15), timedelta(hours=3), timedelta(hours=24))
RULES_FILE = "study/platforms.toml"
_URL = re.compile(r"https?://", re.IGNORECASE)
_NO_PLATFORM = {
    "email": "no platform limit (e-mail: the mail server's own limits apply)",
    "manual": "no platform limit (people send these probes)",
}


@dataclass(frozen=True)
class Peak:
    """The most posts inside any one `window`, and when the first of them goes."""

    window: timedelta
    posts: int
    starts_at: datetime | None


@dataclass(frozen=True)
class LimitUse:
    """A posting limit and the plan's peak in its window."""

    limit: Limit
    peak: Peak

    @property
    def over(self) -> bool:
        return self.peak.posts > self.limit.actions


@dataclass(frozen=True)
class AccountBudget:
    """One probe account (a channel's account) against its platform's rules."""

    channel: str
    account: str
    platform: Platform | None
    posts: int
    peaks: tuple[Peak, ...]
    limits: tuple[LimitUse, ...]
    polls: int  # inbox polls the runner makes while the account's windows are open
    posts_usd: float
    reads_usd: float

    @property
    def total_usd(self) -> float:
        return self.posts_usd + self.reads_usd

    @property
    def name(self) -> str:
        """The probe account as the channel writes it: "x account @probe"."""
        who = mention(self.channel, self.account) if self.account else "(no account)"
        return f"{self.channel} account {who}"


def peak(times: list[datetime], window: timedelta) -> Peak:
    """The busiest `window` of sorted `times`: most instants in any [t, t + window)."""
    best, start, j = 0, None, 0
    for i, t in enumerate(times):
        j = max(j, i)
        while j < len(times) and times[j] - t < window:
            j += 1
        if j - i > best:
            best, start = j - i, t
    return Peak(window, best, start)


def open_seconds(times: list[datetime], window: timedelta) -> float:
    """Seconds during which at least one of the windows [t, t + window) is open."""
    total, end = 0.0, None
    for t in times:
        if end is None or t >= end:
            total += window.total_seconds()
        else:
            total += (t + window - end).total_seconds()
        end = max(end or t, t + window)
    return total


def budgets(study: Study, plan: list[PlannedProbe]) -> list[AccountBudget]:
    """Every probe account of the plan (each persona's: study.personas), in channel order.
    A limit of scope `app` counts the posts of every account of its platform."""
    out = []
    accounts = {p.name: p.account for p in personas_of(study)}
    for channel, sender in sorted({(p.channel, p.sender) for p in plan}):
        probes = [p for p in plan if p.sender == sender]
        times = sorted(p.scheduled_at for p in probes)
        app_times = sorted(p.scheduled_at for p in plan if p.channel == channel)
        rules = platform(channel)
        limits = () if rules is None else rules.limits_of(POST)
        polls = 0
        posts_usd = reads_usd = 0.0
        if rules is not None:
            window = timedelta(hours=study.window_hours)
            polls = math.ceil(open_seconds(times, window) / POLL_MIN_S)
            with_url = sum(1 for p in probes if _URL.search(p.text))
            posts_usd = (len(probes) - with_url) * rules.price(POST)
            posts_usd += with_url * rules.price(POST_WITH_URL)
            reads_usd = polls * sum(rules.price(action) for action in rules.inbox)
        account = accounts.get(sender, "")
        out.append(
            AccountBudget(
                channel=channel,
                account=account,
                platform=rules,
                posts=len(probes),
                peaks=tuple(peak(times, w) for w in SHOWN),
                limits=tuple(
                    LimitUse(x, peak(app_times if x.scope == "app" else times, x.window))
                    for x in limits
                ),
                polls=polls,
                posts_usd=posts_usd,
                reads_usd=reads_usd,
            )
        )
    return out


def limit_problems(study: Study, plan: list[PlannedProbe]) -> list[Problem]:
    """A problem for each posting limit a probe account's plan cannot fit (for `validate`)."""
    problems = []
    for b in budgets(study, plan):
        for use in b.limits:
            if not use.over or b.platform is None or use.peak.starts_at is None:
                continue
            span = window_text(use.limit.window)
            problems.append(
                Problem(
                    "study.toml",
                    None,
                    f"the {b.name} would post {use.peak.posts} probes in {span} on "
                    f"{use.peak.starts_at:%Y-%m-%d} from {use.peak.starts_at:%H:%M} UTC, over "
                    f"{use.limit.describe(b.platform.name)} ({RULES_FILE}); widen the slots, "
                    "lengthen the sending period or lower probes_per_target so that no "
                    f"{span} hold more than {use.limit.actions:,} of its probes",
                )
            )
    return problems


def budget_lines(study: Study, plan: list[PlannedProbe]) -> list[str]:
    """What `replybench plan` prints about the platforms' limits and costs."""
    lines = [f"platform limits and cost per probe account ({RULES_FILE}):"]
    for b in budgets(study, plan):
        if b.platform is None:
            lines.append(f"  {b.name}: {b.posts} posts; {_NO_PLATFORM.get(b.channel, '')}")
            continue
        by_window = {x.limit.window: x.limit.actions for x in b.limits}
        shown = ", ".join(
            f"{p.posts} per {window_text(p.window)}"
            + (f" (limit {by_window[p.window]:,})" if p.window in by_window else "")
            for p in b.peaks
        )
        lines.append(f"  {b.name}: {b.posts} posts; busiest {shown}")
        for use in b.limits:
            if use.limit.window not in SHOWN:
                mark = "OVER " if use.over else ""
                lines.append(
                    f"    {mark}{use.peak.posts} in the busiest {window_text(use.limit.window)}"
                    f" against {use.limit.describe(b.platform.name)}"
                )
            elif use.over:
                lines.append(f"    OVER {use.limit.describe(b.platform.name)}")
        if b.total_usd == 0:
            lines.append(f"    cost: none ({b.platform.name} does not charge for its API)")
        else:
            lines.append(
                f"    cost: posts ${b.posts_usd:,.2f} + inbox reads up to ${b.reads_usd:,.2f} "
                f"({b.polls:,} polls, one a minute while windows are open) = up to "
                f"${b.total_usd:,.2f}"
            )
    return lines


def budget_json(study: Study, plan: list[PlannedProbe]) -> list[dict[str, Any]]:
    """The same as `budget_lines`, as JSON-ready rows (one per probe account)."""
    rows: list[dict[str, Any]] = []
    for b in budgets(study, plan):
        rows.append(
            {
                "account": b.account,
                "channel": b.channel,
                "cost_usd": {
                    "polls": b.polls,
                    "posts": round(b.posts_usd, 6),
                    "reads_at_most": round(b.reads_usd, 6),
                    "total_at_most": round(b.total_usd, 6),
                },
                "limits": [
                    {
                        "action": u.limit.action,
                        "endpoint": u.limit.endpoint,
                        "limit": u.limit.actions,
                        "over": u.over,
                        "peak": u.peak.posts,
                        "peak_starts_at": _at(u.peak.starts_at),
                        "scope": u.limit.scope,
                        "source": u.limit.source,
                        "window_minutes": int(u.limit.window.total_seconds() // 60),
                    }
                    for u in b.limits
                ],
                "note": "" if b.platform is not None else _NO_PLATFORM.get(b.channel, ""),
                "peaks": [
                    {
                        "posts": p.posts,
                        "starts_at": _at(p.starts_at),
                        "window_minutes": int(p.window.total_seconds() // 60),
                    }
                    for p in b.peaks
                ],
                "platform": None if b.platform is None else b.platform.name,
                "posts": b.posts,
            }
        )
    return rows


def _at(when: datetime | None) -> str | None:
    return None if when is None else iso(when)
