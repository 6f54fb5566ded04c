"""What the runner shows of itself: a snapshot for the progress display, and the note it
keeps in the journal's meta (`progress`) for `replybench status`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from probes.channels.base import Channel, RateLimit
from study.model import ProbeState
from study.timeutil import iso


@dataclass
class Snapshot:
    """What the progress display shows."""

    now: datetime
    counts: dict[str, int]
    answered: int
    next_send: datetime | None
    rate_limits: list[RateLimit] = field(default_factory=list)
    last_event: str = ""

    @property
    def open(self) -> int:
        return self.counts.get(ProbeState.SENT.value, 0) + self.counts.get("sending", 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return sum(
            self.counts.get(s.value, 0)
            for s in (ProbeState.CLOSED, ProbeState.MISSED, ProbeState.FAILED)
        )

    def note(self) -> str:
        """The progress note `replybench status` shows: clock, last event, rate limits."""
        return json.dumps(
            {
                "clock": iso(self.now),
                "last_event": self.last_event,
                "rate_limits": [
                    {
                        "endpoint": r.endpoint,
                        "limit": r.limit,
                        "remaining": r.remaining,
                        "reset_at": None if r.reset_at is None else iso(r.reset_at),
                        "reset_clamped_from": r.reset_clamped_from,
                    }
                    for r in self.rate_limits
                ],
            },
            sort_keys=True,
        )


def rate_limits(channels: Iterable[Channel]) -> list[RateLimit]:
    """What the channels last learned of their endpoints' budgets (those that keep any)."""
    limits: list[RateLimit] = []
    for ch in channels:
        rl = getattr(ch, "rate_limits", None)
        if isinstance(rl, dict):
            limits.extend(v for v in rl.values() if isinstance(v, RateLimit))
    return limits
