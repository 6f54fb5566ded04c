"""The runner's health: which channels it cannot reach, since when, and what it does about it.

Whoever talks to a platform tells the tracker how it went: `failed(channel, at, detail)` for
a request that did not get a usable answer (no connection, a timeout, a 5xx, an answer that
cannot be read), `reached(channel, at)` for any answer the platform gave (a post, an inbox
page, a 429, a refusal). A channel with `MIN_FAILURES` failures in a row is *unreachable*;
the journal records when it became so (`unreachable` event) and when it came back
(`reachable`), and `meta.health` holds the current picture for `replybench status`.

After `max_outage` of failures with no success, `check` (called by the runner between steps,
when the journal is whole) records an `outage_exit` event and raises `OutageExit`: the
process exits with `OUTAGE_EXIT_CODE`, so a service manager restarts it and a person
notices. Restarted, the runner resumes from the journal; probes whose slot passed meanwhile
are caught up (study.catch_up). When the study has `[alerts]`, a person is told when a channel
has been unreachable for `alert_after` and when it is back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from probes.alerts import Alerter
from probes.channels.base import ChannelError, Rejected, Transient
from study.errors import StudyError
from study.journal.campaign import Journal
from study.timeutil import iso

OUTAGE_EXIT_CODE = 75  # EX_TEMPFAIL (sysexits.h): a temporary failure; run again later
MIN_FAILURES = 3  # failed requests in a row before a channel counts as unreachable


class OutageExit(StudyError):
    """A channel could not be reached for the study's max_outage_minutes: stop, loudly."""

    exit_code = OUTAGE_EXIT_CODE


@dataclass
class Streak:
    """The failures of one channel since its last success."""

    channel: str
    since: datetime  # the first failure after the last success
    last_at: datetime  # the latest failure
    failures: int
    detail: str  # what the latest failure was
    recorded: bool = False  # its `unreachable` event is in the journal
    alerted: bool = False

    @property
    def unreachable(self) -> bool:
        return self.failures >= MIN_FAILURES

    @property
    def length(self) -> timedelta:
        return self.last_at - self.since


class Health:
    """Tracks each channel's reachability for one run; see the module docstring."""

    def __init__(
        self,
        journal: Journal,
        *,
        max_outage: timedelta,
        alerter: Alerter | None = None,
        alert_after: timedelta | None = None,
    ) -> None:
        self.journal = journal
        self.max_outage = max_outage
        self.alerter = alerter
        self.alert_after = alert_after
        self.streaks: dict[str, Streak] = {}
        self._stopped: dict[str, object] | None = None

    def start(self, at: datetime) -> None:
        """A new run: nothing is known to be unreachable yet."""
        self.streaks.clear()
        self._save(at)

    def failed(self, channel: str, at: datetime, detail: str) -> None:
        """A request to `channel` got no usable answer."""
        s = self.streaks.get(channel)
        if s is not None and at - s.last_at > self.max_outage:
            s = None  # nothing was asked for that long: the old streak says nothing of now
        if s is None:
            s = self.streaks[channel] = Streak(channel, at, at, 0, detail)
        s.failures += 1
        s.last_at, s.detail = at, detail
        if s.unreachable and not s.recorded:
            s.recorded = True
            self.journal.event(at, "unreachable", None, f"{channel}: {detail}")
        if (
            self.alerter is not None
            and self.alert_after is not None
            and s.unreachable
            and not s.alerted
            and s.length >= self.alert_after
        ):
            s.alerted = True
            self.alerter.notify(
                "unreachable",
                f"replybench: {channel} unreachable since {_hm(s.since)}",
                f"{self._study()}: the runner cannot reach {channel} since {iso(s.since)} "
                f"({s.failures} failed requests; last: {detail}). {self._plan(s)}",
            )
        self._save(at)

    def reached(self, channel: str, at: datetime) -> None:
        """`channel` answered: it is reachable (whatever the answer said)."""
        s = self.streaks.pop(channel, None)
        if s is None:
            return
        if s.recorded:
            back = f"{channel}: back after {_span(at - s.since)}"
            self.journal.event(at, "reachable", None, back)
        if s.alerted and self.alerter is not None:
            self.alerter.notify(
                "reachable",
                f"replybench: {channel} reachable again",
                f"{self._study()}: {channel} answers again at {iso(at)}, after "
                f"{_span(at - s.since)} out of reach; the runner carries on.",
            )
        self._save(at)

    def unanswered(self, channel: str, at: datetime, e: ChannelError) -> None:
        """A request to `channel` raised `e`: a platform that names a time to come back (a
        429) or refuses the request did answer; any other such error (no connection, a
        timeout, an answer that cannot be read) means it could not be reached."""
        if isinstance(e, Rejected) or (isinstance(e, Transient) and e.retry_at is not None):
            self.reached(channel, at)
        else:
            self.failed(channel, at, str(e))

    def check(self, now: datetime) -> None:
        """Raise OutageExit when a channel has failed for max_outage (the journal is whole)."""
        for s in sorted(self.streaks.values(), key=lambda s: s.since):
            if s.unreachable and s.length >= self.max_outage:
                reason = (
                    f"{s.channel} could not be reached from {iso(s.since)} to {iso(s.last_at)} "
                    f"({s.failures} failed requests; last: {s.detail})"
                )
                self.journal.event(now, "outage_exit", None, reason)
                self._stopped = {"at": iso(now), "reason": reason, "exit_code": OUTAGE_EXIT_CODE}
                self._save(now)
                raise OutageExit(
                    f"{reason}; stopped after max_outage_minutes "
                    f"({self.max_outage.total_seconds() / 60:g}) with exit code "
                    f"{OUTAGE_EXIT_CODE}; the journal is intact: run the same command again "
                    "to resume (probes whose slot passed are caught up)"
                )

    def state(self, now: datetime) -> dict[str, object]:
        """What `meta.health` holds: unreachable channels and what the runner will do."""
        return {
            "updated_at": iso(now),
            "max_outage_minutes": self.max_outage.total_seconds() / 60,
            "unreachable": {
                s.channel: {
                    "since": iso(s.since),
                    "last_failure": iso(s.last_at),
                    "failures": s.failures,
                    "detail": s.detail,
                    "exits_at": iso(s.since + self.max_outage),
                }
                for s in self.streaks.values()
                if s.unreachable
            },
            "stopped": self._stopped,
        }

    def _save(self, now: datetime) -> None:
        self.journal.set_meta("health", json.dumps(self.state(now), sort_keys=True))

    def _plan(self, s: Streak) -> str:
        return (
            f"It keeps trying and exits (code {OUTAGE_EXIT_CODE}) at "
            f"{iso(s.since + self.max_outage)} if {s.channel} is still out of reach."
        )

    def _study(self) -> str:
        return self.journal.meta("study_name") or "the study"


def _hm(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _span(d: timedelta) -> str:
    minutes = d.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
