"""Clocks are passed in, never read from a global: tests and the simulator run days in seconds.

Three clocks share one small protocol:

- `SystemClock`: real time.
- `ScaledClock`: virtual time that runs `speed` times faster than real time from an anchor.
  Two processes that read the same anchor (the simulator writes it to `sim/clock.json`)
  agree on virtual time without talking to each other.
- `ManualClock`: time moves only when someone sleeps; a 72-hour window passes instantly.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from study.timeutil import from_epoch, parse_iso, utc


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass(frozen=True)
class ClockAnchor:
    """Virtual time `virtual_start` happened at real time `real_start` (epoch seconds)."""

    virtual_start: datetime
    real_start: float
    speed: float

    def to_json(self) -> str:
        return json.dumps(
            {
                "virtual_start": utc(self.virtual_start).isoformat(),
                "real_start": self.real_start,
                "speed": self.speed,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ClockAnchor:
        d = json.loads(text)
        return cls(parse_iso(d["virtual_start"]), float(d["real_start"]), float(d["speed"]))

    @classmethod
    def read(cls, path: Path) -> ClockAnchor:
        return cls.from_json(path.read_text(encoding="utf-8"))


class ScaledClock:
    """Virtual time running `anchor.speed` times faster than the real clock."""

    def __init__(self, anchor: ClockAnchor) -> None:
        self.anchor = anchor

    @property
    def speed(self) -> float:
        return self.anchor.speed

    def now(self) -> datetime:
        elapsed = (time.time() - self.anchor.real_start) * self.anchor.speed
        return self.anchor.virtual_start + timedelta(seconds=elapsed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.anchor.speed)


class HeldClock:
    """Virtual time that stands at `start` until `release()`, then runs `speed` times faster.

    The simulator holds its clock until the first client request, so the seconds a runner
    takes to start do not eat into a study compressed a thousandfold. Thread-safe.
    """

    def __init__(
        self,
        start: datetime,
        speed: float,
        on_release: Callable[[ClockAnchor], None] | None = None,
    ) -> None:
        self.start = utc(start)
        self.speed = speed
        self._on_release = on_release
        self._anchor: ClockAnchor | None = None
        self._lock = threading.Lock()

    @classmethod
    def running(cls, anchor: ClockAnchor) -> HeldClock:
        clock = cls(anchor.virtual_start, anchor.speed)
        clock._anchor = anchor
        return clock

    def release(self) -> ClockAnchor:
        """Start the clock now (once); returns the anchor every process can share."""
        with self._lock:
            if self._anchor is None:
                self._anchor = ClockAnchor(self.start, time.time(), self.speed)
                if self._on_release is not None:
                    self._on_release(self._anchor)
            return self._anchor

    @property
    def released(self) -> bool:
        return self._anchor is not None

    def now(self) -> datetime:
        anchor = self._anchor
        if anchor is None:
            return self.start
        return ScaledClock(anchor).now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


class ManualClock:
    """Time that moves only when advanced (or slept through): for tests."""

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        self._now = max(self._now, utc(when))

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


def anchor_now(virtual_start: datetime, speed: float) -> ClockAnchor:
    return ClockAnchor(utc(virtual_start), time.time(), speed)


__all__ = [
    "Clock",
    "ClockAnchor",
    "HeldClock",
    "ManualClock",
    "ScaledClock",
    "SystemClock",
    "anchor_now",
    "from_epoch",
]
