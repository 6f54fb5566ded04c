"""The runner's pacing (probes.pacing) and the reset headers it honours (probes.channels.http)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from probes.channels.ratelimits import read_rate_limit
from probes.channels.x.adapter import X_RATE_LIMIT
from probes.pacing import MARGIN, Pacer
from study.model import PlannedProbe, Scope

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15) + MARGIN


def probe(n: int, channel: str = "x") -> PlannedProbe:
    return PlannedProbe(
        f"b{n}-US-{channel}-r1", f"b{n}", "US", channel, f"B{n}", Scope.LOCAL, "s0",
        "business", 1, f"@B{n} hello", T0, T0, T0 + timedelta(hours=8),
    )  # fmt: skip


@dataclass
class Open:
    channel: str
    sent_at: datetime
    sender: str = ""  # the persona that sent it ("": the channel's one account)


@dataclass
class FakeJournal:
    opened: list[Open] = field(default_factory=list)
    polls: dict[str, datetime] = field(default_factory=dict)
    postponed: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def records(self, *, sent: bool = False) -> list[Open]:
        return self.opened

    def polled_at(self, channel: str) -> datetime | None:
        return self.polls.get(channel)

    def postpone(self, probe_id: str, retry_at: datetime, detail: str) -> None:
        self.postponed[probe_id] = (retry_at, detail)


def test_x_posts_go_100_per_15_minutes_and_the_rest_wait_for_the_oldest_to_leave() -> None:
    pacer, journal = Pacer(), FakeJournal()
    due = [probe(n) for n in range(103)]
    admitted = pacer.admit(due, journal, T0)
    assert len(admitted) == 100 and len(journal.postponed) == 3
    at, why = journal.postponed["b100-US-x-r1"]
    assert at == T0 + WINDOW
    assert why.startswith("paced: X's limit of 100 posts per 15 minutes per user; next at ")
    # A minute later nothing more fits; once the window has passed, the next ones go.
    assert pacer.reserve("x", ["post"], T0 + timedelta(minutes=1)) == T0 + WINDOW
    assert pacer.reserve("x", ["post"], T0 + WINDOW) is None


def test_channels_without_a_platform_and_other_platforms_are_not_held_back() -> None:
    pacer, journal = Pacer(), FakeJournal()
    due = [probe(n, "email") for n in range(150)] + [probe(n, "mastodon") for n in range(150)]
    assert len(pacer.admit(due, journal, T0)) == 300 and journal.postponed == {}


def test_polls_of_x_read_dm_events_at_most_15_times_per_15_minutes() -> None:
    pacer = Pacer()
    times = [T0 + timedelta(seconds=30 * i) for i in range(16)]
    waits = [pacer.poll("x", t) for t in times]
    assert waits[:15] == [None] * 15
    assert waits[15] == T0 + WINDOW
    assert pacer.poll("mastodon", T0) is None  # Mastodon's inbox read has no own limit


def test_a_resumed_pacer_counts_the_journaled_posts_and_a_spent_read_budget() -> None:
    journal = FakeJournal(
        opened=[Open("x", T0 - timedelta(minutes=5)) for _ in range(100)],
        polls={"x": T0 - timedelta(minutes=2)},
    )
    pacer = Pacer.resume(journal)
    assert pacer.reserve("x", ["post"], T0) == T0 - timedelta(minutes=5) + WINDOW
    assert pacer.poll("x", T0) == T0 - timedelta(minutes=2) + WINDOW


def test_a_spent_24_hour_budget_of_x_wins_over_its_15_minute_one() -> None:
    now = T0
    day = int((now + timedelta(hours=20)).timestamp())
    headers = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "40",
        "x-rate-limit-reset": str(int((now + timedelta(minutes=9)).timestamp())),
        "x-app-limit-24hour-limit": "10000",
        "x-app-limit-24hour-remaining": "0",
        "x-app-limit-24hour-reset": str(day),
    }
    limit = read_rate_limit("POST /2/tweets", headers, X_RATE_LIMIT, now)
    assert limit is not None
    assert (limit.limit, limit.remaining) == (10000, 0)
    assert limit.reset_at == datetime.fromtimestamp(day, UTC)
    headers["x-app-limit-24hour-remaining"] = "5"
    limit = read_rate_limit("POST /2/tweets", headers, X_RATE_LIMIT, now)
    assert limit is not None and (limit.limit, limit.remaining) == (100, 40)


def test_each_persona_has_its_own_user_budget_and_shares_the_app_budget() -> None:
    """X's 100 posts per 15 minutes hold per user, so two personas post 200; its 10,000 per
    24 hours per app hold for both together."""
    pacer, journal = Pacer(), FakeJournal()
    due = [replace(probe(n), persona="anna" if n % 2 else "ben") for n in range(204)]
    admitted = pacer.admit(due, journal, T0)
    assert len(admitted) == 200 and len(journal.postponed) == 4
    resumed = Pacer.resume(
        FakeJournal(opened=[Open("x", T0 - timedelta(minutes=5), "anna") for _ in range(100)])
    )
    assert resumed.reserve("anna", ["post"], T0) == T0 - timedelta(minutes=5) + WINDOW
    assert resumed.reserve("ben", ["post"], T0) is None
    day = [Open("x", T0 - timedelta(hours=1), f"p{i % 200}") for i in range(10_000)]
    full, later = Pacer.resume(FakeJournal(opened=day)), FakeJournal()
    assert full.admit([replace(probe(1), persona="zoe")], later, T0) == []  # the app's day
    assert "10,000 posts per 24 hours per app" in later.postponed["b1-US-x-r1"][1]
