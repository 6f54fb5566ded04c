"""The confirmation queue: inquiries waiting for a person to press send, and what they decided.

The runner offers each due inquiry of a channel that needs a person (`probes.confirm.gate`);
a person confirms or skips it on the local web page (`probes.confirm.web`) or at the terminal
prompt (`probes.confirm.terminal`), each from its own thread. The queue is the one object
they share: every method is thread-safe, and a decision wakes the runner's sleep.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from study.timeutil import iso

LOG_LENGTH = 50  # the decisions and outcomes a page shows


class Decision(StrEnum):
    CONFIRM = "confirm"
    SKIP = "skip"


@dataclass(frozen=True)
class Inquiry:
    """A due probe as a person sees it before sending it."""

    probe_id: str
    channel: str
    account: str  # the probe account that sends it
    brand: str
    brand_name: str
    handle: str  # the brand's account it goes to
    country: str
    country_name: str
    timezone: str  # the country's IANA zone
    text: str
    scheduled_at: datetime
    slot_end_at: datetime

    def local_time(self, at: datetime) -> str:
        """`at` in the target country's local time, e.g. "Mon 10:42 CET"."""
        return at.astimezone(ZoneInfo(self.timezone)).strftime("%a %H:%M %Z")

    def left(self, now: datetime) -> timedelta:
        """How long its slot still lasts at `now` (never negative)."""
        return max(self.slot_end_at - now, timedelta(0))

    def as_json(self, now: datetime) -> dict[str, Any]:
        return {
            "probe_id": self.probe_id,
            "channel": self.channel,
            "account": self.account,
            "brand": self.brand,
            "brand_name": self.brand_name,
            "handle": self.handle,
            "country": self.country,
            "country_name": self.country_name,
            "text": self.text,
            "scheduled_at": iso(self.scheduled_at),
            "scheduled_local": self.local_time(self.scheduled_at),
            "local_now": self.local_time(now),
            "slot_end_at": iso(self.slot_end_at),
            "seconds_left": round(self.left(now).total_seconds()),
            "seconds_until": round(max((self.scheduled_at - now).total_seconds(), 0)),
        }


def duration(td: timedelta) -> str:
    """A span for people: "1 h 05 min", "12 min", "40 s"."""
    s = max(int(td.total_seconds()), 0)
    if s < 60:
        return f"{s} s"
    h, m = divmod(s // 60, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


class ConfirmationQueue:
    """Inquiries waiting for a person (`waiting`), the next ones (`upcoming`), and the
    decisions the runner has not taken yet. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, Inquiry] = {}
        self._decided: dict[str, Decision] = {}
        self._upcoming: tuple[Inquiry, ...] = ()
        self._log: deque[tuple[datetime, str]] = deque(maxlen=LOG_LENGTH)
        self._listeners: list[Callable[[Inquiry], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self.running = True  # False once the runner has finished: the page says so

    # -- the runner's side ---------------------------------------------------------------

    def attach(self) -> None:
        """Bind to the running event loop, whose sleep a decision is to wake."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._event = loop, asyncio.Event()

    def offer(self, inquiry: Inquiry) -> bool:
        """Show `inquiry` to a person (once); whether it is new."""
        with self._lock:
            if inquiry.probe_id in self._waiting or inquiry.probe_id in self._decided:
                return False
            self._waiting[inquiry.probe_id] = inquiry
            listeners = list(self._listeners)
        for listener in listeners:
            listener(inquiry)
        return True

    def set_upcoming(self, inquiries: list[Inquiry]) -> None:
        with self._lock:
            self._upcoming = tuple(inquiries)

    def take(self) -> dict[str, Decision]:
        """The decisions made since the last call (confirmed or skipped probe ids)."""
        with self._lock:
            taken, self._decided = self._decided, {}
        if self._event is not None:
            self._event.clear()
        return taken

    def withdraw(self, probe_id: str) -> bool:
        """Take back an inquiry whose slot passed undecided; whether it was waiting."""
        with self._lock:
            return self._waiting.pop(probe_id, None) is not None

    async def decided(self) -> None:
        """Return once a decision is waiting to be taken."""
        self.attach()
        assert self._event is not None
        with self._lock:
            if self._decided:
                return
        await self._event.wait()

    def note(self, at: datetime, text: str) -> None:
        """A line for the page's log (what became of an inquiry)."""
        with self._lock:
            self._log.appendleft((at, text))

    # -- a person's side (any thread) ------------------------------------------------------

    def listen(self, listener: Callable[[Inquiry], None]) -> None:
        """Call `listener` with each inquiry as it is first offered (in the runner's thread)."""
        with self._lock:
            self._listeners.append(listener)

    def decide(self, probe_id: str, decision: Decision, now: datetime) -> str | None:
        """Confirm or skip a waiting inquiry at `now`; None, or why it cannot be done."""
        with self._lock:
            inquiry = self._waiting.get(probe_id)
            if inquiry is None:
                return f"{probe_id} is not waiting for a decision (decided, sent or missed)"
            if decision is Decision.CONFIRM and now >= inquiry.slot_end_at:
                return f"{probe_id}: its slot ended at {iso(inquiry.slot_end_at)}; too late"
            del self._waiting[probe_id]
            self._decided[probe_id] = decision
            done = "confirmed" if decision is Decision.CONFIRM else "skipped"
            self._log.appendleft((now, f"{done} {probe_id}"))
            loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)
        return None

    def waiting(self) -> list[Inquiry]:
        """The inquiries waiting for a person, the one whose slot ends first first."""
        with self._lock:
            items = list(self._waiting.values())
        return sorted(items, key=lambda i: (i.slot_end_at, i.probe_id))

    def upcoming(self) -> list[Inquiry]:
        with self._lock:
            return list(self._upcoming)

    def state(self, now: datetime) -> dict[str, Any]:
        """What the page shows, as JSON-ready data."""
        with self._lock:
            log = list(self._log)
        return {
            "now": iso(now),
            "running": self.running,
            "waiting": [i.as_json(now) for i in self.waiting()],
            "upcoming": [i.as_json(now) for i in self.upcoming()],
            "log": [{"at": iso(at), "text": text} for at, text in log],
        }
