"""Failures as real APIs have them, for a share of requests, so runners are tested on them.

A request fails with a 429 (with `x-rate-limit-reset`), a 500, a 503, a dropped connection
(for a POST, sometimes *after* the post was applied: the client cannot know whether it
was posted and must reconcile), or is answered slowly (1 to 3 s of real time). Which
request fails, and how, is a pure function of the seed and the request's number.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import httpx

from probes.sim.bots import rng_for
from probes.sim.faces import Face
from probes.sim.platform import XPlatform


class Fault(StrEnum):
    NONE = "none"
    RATE_LIMITED = "rate_limited"  # 429, as if the window were spent
    SERVER_ERROR = "server_error"  # 500
    UNAVAILABLE = "unavailable"  # 503
    DROP = "drop"  # the connection closes without an answer; nothing was applied
    DROP_AFTER = "drop_after"  # a POST is applied, then the connection closes
    SLOW = "slow"  # the answer comes after `delay` real seconds

    @property
    def status(self) -> int:
        return {"rate_limited": 429, "server_error": 500, "unavailable": 503}[self.value]


# How failures split, among the failing requests.
WEIGHTS = {
    Fault.RATE_LIMITED: 0.2,
    Fault.SERVER_ERROR: 0.15,
    Fault.UNAVAILABLE: 0.15,
    Fault.DROP: 0.25,
    Fault.SLOW: 0.25,
}


@dataclass(frozen=True)
class Decision:
    fault: Fault
    delay: float = 0.0  # real seconds, for SLOW


class Faults:
    """Decides, request by request, whether and how each one fails (thread-safe)."""

    def __init__(self, rate: float, seed: int) -> None:
        if not 0 <= rate <= 1:
            raise ValueError(f"fault rate is a share between 0 and 1, not {rate}")
        self.rate = rate
        self.seed = seed
        self.count = 0
        self._lock = threading.Lock()

    def next(self, method: str) -> Decision:
        """The decision for the next request (numbered in arrival order)."""
        with self._lock:
            n = self.count
            self.count += 1
        rng = rng_for(self.seed, "fault", str(n))
        u, pick, after, delay = rng.random(), rng.random(), rng.random(), rng.uniform(1, 3)
        if u >= self.rate:
            return Decision(Fault.NONE)
        fault = _pick(pick)
        if fault is Fault.DROP and method == "POST" and after < 0.5:
            fault = Fault.DROP_AFTER
        return Decision(fault, delay if fault is Fault.SLOW else 0.0)


def _pick(u: float) -> Fault:
    """The failure a uniform draw `u` falls on, by `WEIGHTS`."""
    for fault, weight in WEIGHTS.items():
        if u < weight:
            return fault
        u -= weight
    return Fault.SLOW  # rounding: the weights add up to 1


def faulty(platform: XPlatform, faults: Faults) -> Callable[[httpx.Request], httpx.Response]:
    """A `httpx.MockTransport` handler: the platform with faults, without real waiting.

    Drops raise `httpx.RemoteProtocolError` (after applying the request for DROP_AFTER), as
    httpx does when a server closes the connection without answering; SLOW answers at once.
    """

    def handle(request: httpx.Request) -> httpx.Response:
        decision = faults.next(request.method)
        return answer(platform, request, decision, sleep=None)

    return handle


def answer(
    platform: Face,
    request: httpx.Request,
    decision: Decision,
    *,
    sleep: Callable[[float], None] | None = time.sleep,
) -> httpx.Response:
    """The platform's answer to a request under a fault decision (raises for drops)."""
    fault = decision.fault
    if fault in (Fault.DROP, Fault.DROP_AFTER):
        if fault is Fault.DROP_AFTER:
            platform.handle(request)
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    if fault in (Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.UNAVAILABLE):
        return platform.refuse(request, fault.status)
    if fault is Fault.SLOW and sleep is not None:
        sleep(decision.delay)
    return platform.handle(request)
