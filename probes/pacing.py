"""The runner's pacing: each channel's posts and inbox polls kept inside its platform's
limits (study/platforms.toml, the file `plan` and `validate` check the plan against), so the
runner never spends a request to learn of a limit from a 429.

Windows slide and are a little longer than the platform's (`MARGIN`): a request is stamped
on our clock before it leaves and on the platform's when it arrives, and a sliding window
that holds no more than the limit also keeps any of the platform's fixed windows inside it.
A post that cannot go now is postponed to the first instant it fits (it stays `planned`;
past its slot it is caught up or missed, as any late probe). A poll waits likewise.

The platform's own rate-limit headers are honoured besides, per endpoint
(probes.channels.http, reading them with probes.channels.ratelimits): they cover reads this
count cannot see (a second page, a lookup).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from study.model import PlannedProbe
from study.platforms import POST, Limit, Platform, platform
from study.timeutil import iso

MARGIN = timedelta(seconds=60)


class PacedJournal(Protocol):
    """What pacing reads from and writes to the journal (study.journal.campaign.Journal)."""

    def records(self, *, sent: bool = False) -> Iterable[_Sent]: ...

    def polled_at(self, channel: str) -> datetime | None: ...

    def postpone(self, probe_id: str, retry_at: datetime, detail: str) -> None: ...


class _Sent(Protocol):
    @property
    def channel(self) -> str: ...

    @property
    def sender(self) -> str: ...  # its persona ("": the channel's one account)

    @property
    def sent_at(self) -> datetime | None: ...


class Pacer:
    """Sliding-window counts of what the runner did from each probe account, per action.

    Accounts are named as the runner names them: a persona, or a channel's one account by
    the channel's name (study.personas). A limit of scope `user` or `account` counts one
    account's actions; one of scope `app` those of every account of its platform."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        self._kind: dict[str, str] = {}  # account -> its channel kind, where not its name

    def _platform(self, account: str) -> Platform | None:
        return platform(self._kind.get(account, account))

    @classmethod
    def resume(cls, journal: PacedJournal) -> Pacer:
        """A pacer that knows what an earlier run did: every post it journaled, and, since
        its reads were not journaled one by one, a whole read budget spent at each channel's
        last poll."""
        pacer = cls()
        probes = [p for p in journal.records(sent=True) if p.sent_at is not None]
        for probe in probes:
            assert probe.sent_at is not None
            pacer._kind[probe.sender or probe.channel] = probe.channel
            pacer.seen(probe.sender or probe.channel, POST, probe.sent_at)
        for channel in sorted({p.sender or p.channel for p in probes}):
            rules = pacer._platform(channel)
            polled = journal.polled_at(channel)
            if rules is None or polled is None:
                continue
            for action in rules.inbox:
                most = max((x.actions for x in rules.limits_of(action)), default=0)
                for _ in range(most):
                    pacer.seen(channel, action, polled)
        return pacer

    def seen(self, channel: str, action: str, at: datetime) -> None:
        """Count an action done at `at` (before this pacer existed)."""
        self._done[(channel, action)].append(at)

    def next_free(self, channel: str, actions: Iterable[str], now: datetime) -> datetime | None:
        """None when every one of `actions` fits now, else the first instant they may."""
        rules = self._platform(channel)
        if rules is None:
            return None
        waits = [self._wait(channel, x, now) for a in actions for x in rules.limits_of(a)]
        later = [w for w in waits if w is not None]
        return max(later) if later else None

    def reserve(self, channel: str, actions: Iterable[str], now: datetime) -> datetime | None:
        """Count `actions` at `now` and return None when they fit, else the first instant
        they may (nothing counted)."""
        actions = tuple(actions)
        later = self.next_free(channel, actions, now)
        if later is None:
            for action in actions:
                self._done[(channel, action)].append(now)
        return later

    def poll(self, channel: str, now: datetime) -> datetime | None:
        """Reserve one inbox poll's reads (X: mentions and DM events); see `reserve`."""
        rules = self._platform(channel)
        return None if rules is None else self.reserve(channel, rules.inbox, now)

    def admit(
        self, due: list[PlannedProbe], journal: PacedJournal, now: datetime
    ) -> list[PlannedProbe]:
        """The due probes that may be posted now (each counted); the others are postponed in
        the journal to the first instant their platform's posting limits allow."""
        admitted = []
        for probe in due:
            self._kind[probe.sender] = probe.channel
            later = self.reserve(probe.sender, (POST,), now)
            if later is None:
                admitted.append(probe)
                continue
            rules = platform(probe.channel)
            why = "" if rules is None else self._why(probe.sender, rules.name, now)
            journal.postpone(probe.probe_id, later, f"paced: {why}; next at {iso(later)}")
        return admitted

    def _why(self, channel: str, name: str, now: datetime) -> str:
        rules = self._platform(channel)
        assert rules is not None
        full = [x for x in rules.limits_of(POST) if self._wait(channel, x, now) is not None]
        return "; ".join(x.describe(name) for x in full)

    def _wait(self, channel: str, limit: Limit, now: datetime) -> datetime | None:
        """When one more `limit.action` fits in `limit`, or None if it fits now."""
        window = limit.window + MARGIN
        keep = max(window, timedelta(hours=24) + MARGIN)
        kind = self._kind.get(channel, channel)
        accounts = [channel]
        if limit.scope == "app":  # every account of the platform counts against the app's
            accounts = sorted({a for a, _ in self._done if self._kind.get(a, a) == kind})
        inside = []
        for account in accounts:
            done = self._done[(account, limit.action)]
            done[:] = sorted(t for t in done if now - t < keep)
            inside += [t for t in done if now - t < window]
        inside.sort()
        room = limit.actions - len(inside)
        if room > 0:
            return None
        # The oldest actions must leave the window until one more fits.
        return inside[-room] + window
