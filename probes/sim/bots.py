"""Brand bots and strangers: what answers a probe gets, when, and how.

A decision is a pure function of (seed, the probe's text, the brand's handle) and the time the
probe was posted: no wall clock, no ids. A simulator restarted in the middle of a study
therefore decides the same way about every probe it sees again.

Latency is counted in *service time*: a probe that arrives while the brand's team is away
waits for the next opening, and the clock of its answer runs only while the team works, so
every answer (not automatic acknowledgements) falls inside service hours.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from probes.sim.profiles import Profile, ServiceHours
from probes.sim.texts import STRANGER, STRANGER_HANDLES, Say, say
from study.model import ReplyKind
from study.timeutil import utc

MAX_LATENCY = timedelta(days=30)  # a cap on the log-normal's long tail, in service time


@dataclass(frozen=True)
class Probe:
    """A post of the probe account that mentions a brand handle, as a bot sees it."""

    post_id: int
    text: str
    posted_at: datetime
    handle: str  # the brand handle mentioned, as written in targets.csv
    brand: str | None  # None: the handle is no study target's
    country: str | None  # None: not a planned probe's text, or the handle serves many
    timezone: str  # the country's IANA zone (UTC when the country is unknown)
    language: str


@dataclass(frozen=True)
class Action:
    """Something a bot or a stranger will do at `at` (virtual time)."""

    at: datetime
    author: str  # handle of who acts
    kind: ReplyKind  # ground truth: what a perfect runner should call it
    text: str
    in_reply_to: int | None  # the post answered, for public replies
    dm: bool  # a DM to the probe account rather than a post
    probe_post_id: int | None  # the probe that caused it (None for scripted events)
    recipient: str | None = None  # handle the DM goes to
    brand: str | None = None
    country: str | None = None


def rng_for(seed: int, *parts: str) -> random.Random:
    """A random stream fixed by the seed and the parts (text, handle, ...)."""
    key = "\x1f".join([str(seed), *parts]).encode("utf-8")
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def decide(probe: Probe, profile: Profile, seed: int, probe_account: str) -> list[Action]:
    """What the brand's bot does about one probe, in time order (possibly nothing)."""
    rng = rng_for(seed, "brand", probe.handle.lower(), probe.text)
    # Always draw the same numbers in the same order, so one setting's change does not
    # reshuffle the others' outcomes.
    u_ack, u_answer, u_mode, u_follow = rng.random(), rng.random(), rng.random(), rng.random()
    ack_delay = rng.uniform(5, 90)
    latency = rng.lognormvariate(math.log(profile.median_minutes), profile.sigma)
    follow = rng.lognormvariate(math.log(profile.dm_followup_minutes), 0.5)
    u_from = rng.random()  # drawn last: the draws before keep their outcomes
    tz = ZoneInfo(probe.timezone)
    at_mention = f"@{probe_account} "
    # The brand's support account (simulator.toml's answer_from) gives this share of answers;
    # automatic acknowledgements always come from the account asked.
    answerer = probe.handle
    if profile.answer_from and u_from < profile.answer_from_share:
        answerer = profile.answer_from

    def action(at: datetime, kind: ReplyKind, text: str, dm: bool) -> Action:
        return Action(
            at=at,
            author=probe.handle if kind is ReplyKind.AUTO_ACK else answerer,
            kind=kind,
            text=text if dm else at_mention + text,
            in_reply_to=None if dm else probe.post_id,
            dm=dm,
            probe_post_id=probe.post_id,
            recipient=probe_account if dm else None,
            brand=probe.brand,
            country=probe.country,
        )

    actions: list[Action] = []
    if u_ack < profile.auto_ack_share:
        # Automatic: immediate, whatever the hours and whichever country.
        when = probe.posted_at + timedelta(seconds=ack_delay)
        actions.append(
            action(when, ReplyKind.AUTO_ACK, say(Say.AUTO_ACK, probe.language, rng), False)
        )
    serves = (
        not profile.answers_only or probe.country is None or (probe.country in profile.answers_only)
    )
    if not serves or u_answer >= profile.answer_rate:
        return actions
    when = after_service_time(probe.posted_at, timedelta(minutes=latency), profile.hours, tz)
    if u_mode < profile.dm_share:
        text = say(Say.DM, probe.language, rng)
        actions.append(action(when, ReplyKind.DIRECT_MESSAGE, text, True))
    elif u_mode < profile.dm_share + profile.redirect_share:
        text = say(Say.REDIRECT, probe.language, rng)
        actions.append(action(when, ReplyKind.REDIRECT, text, False))
        if u_follow < profile.redirect_dm_rate:
            later = after_service_time(when, timedelta(minutes=follow), profile.hours, tz)
            text = say(Say.DM, probe.language, rng)
            actions.append(action(later, ReplyKind.DIRECT_MESSAGE, text, True))
    else:
        text = say(Say.ANSWER, probe.language, rng)
        actions.append(action(when, ReplyKind.PUBLIC_REPLY, text, False))
    return actions


def strangers(
    post_id: int, text: str, posted_at: datetime, rate: float, seed: int, probe_account: str
) -> list[Action]:
    """Now and then a stranger replies to a probe or mentions the probe account: not an
    answer, though its wording looks like one."""
    rng = rng_for(seed, "stranger", text)
    u, reply, delay = rng.random(), rng.random() < 0.7, rng.lognormvariate(math.log(90), 1.0)
    author, words = rng.choice(STRANGER_HANDLES), rng.choice(STRANGER)
    if u >= rate:
        return []
    return [
        Action(
            at=posted_at + timedelta(minutes=min(delay, 3 * 24 * 60)),
            author=author,
            kind=ReplyKind.OTHER,
            text=f"@{probe_account} {words}",
            in_reply_to=post_id if reply else None,
            dm=False,
            probe_post_id=post_id,
        )
    ]


def after_service_time(
    start: datetime, work: timedelta, hours: ServiceHours, tz: ZoneInfo
) -> datetime:
    """The instant when `work` of service time has passed since `start` (UTC in, UTC out).

    Service time runs only inside opening hours, in local time of `tz`; a start outside them
    waits for the next opening. The result is strictly inside an opening.
    """
    t = utc(start)
    remaining = min(work, MAX_LATENCY)
    if hours.always:
        return t + remaining
    if not hours.days:
        raise ValueError("service hours without any day: nobody ever answers")
    day = t.astimezone(tz).date()
    while True:
        if day.weekday() in hours.days:
            opens, closes = _opening(day, hours, tz)
            if t < closes:
                t = max(t, opens)
                if t + remaining < closes:
                    return t + remaining
                remaining -= closes - t
                t = closes
        day += timedelta(days=1)


def in_service(when: datetime, hours: ServiceHours, tz: ZoneInfo) -> bool:
    """Whether `when` falls inside service hours (for tests and the docs' claims)."""
    day = utc(when).astimezone(tz).date()
    if day.weekday() not in hours.days:
        return False
    opens, closes = _opening(day, hours, tz)
    return opens <= utc(when) < closes


def _opening(day: date, hours: ServiceHours, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """One day's opening as UTC instants (arithmetic in UTC: local days may be 23 or 25 h)."""
    opens = datetime.combine(day, hours.opens, tzinfo=tz).astimezone(UTC)
    if hours.closes is None:
        closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    else:
        closes = datetime.combine(day, hours.closes, tzinfo=tz).astimezone(UTC)
    return opens, closes
