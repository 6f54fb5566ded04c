"""Failures as real APIs have them, for a share of requests, so runners are tested on them.

A request fails with a 429 (with `x-rate-limit-reset`), a 500, a 503, a dropped connection
(for a POST, sometimes *after* the post was applied: the client cannot know whether it
was posted and must reconcile), or is answered slowly (1 to 3 s of real time). Which
request fails, and how, is a pure function of the seed and the request's number.

`HOSTILE` weights instead pick the answers of a broken or hostile server: a 200 with an HTML
page or with the JSON cut off halfway, a body of 50 MB, a 429 whose reset lies in the year
5138, or the answer dripped one byte at a time (a POST is applied before its answer goes
wrong, except behind an HTML page, which stands for a proxy that never passed it on).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from probes.sim.bots import rng_for
from probes.sim.dispatch import Dispatch
from probes.sim.face import Face


class Fault(StrEnum):
    NONE = "none"
    RATE_LIMITED = "rate_limited"  # 429, as if the window were spent
    SERVER_ERROR = "server_error"  # 500
    UNAVAILABLE = "unavailable"  # 503
    DROP = "drop"  # the connection closes without an answer; nothing was applied
    DROP_AFTER = "drop_after"  # a POST is applied, then the connection closes
    SLOW = "slow"  # the answer comes after `delay` real seconds
    HTML = "html"  # 200 with an HTML page instead of JSON
    BROKEN_JSON = "broken_json"  # the answer's body cut off halfway
    HUGE = "huge"  # 200 with a body of HUGE_BYTES
    ABSURD_RESET = "absurd_reset"  # 429 whose rate-limit reset is in the year 5138
    DRIP = "drip"  # the answer one byte every `delay` real seconds

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


# A hostile server's answers, evenly.
HOSTILE = {
    f: 0.2 for f in (Fault.HTML, Fault.BROKEN_JSON, Fault.HUGE, Fault.ABSURD_RESET, Fault.DRIP)
}
HUGE_BYTES = 50 * 1024 * 1024
ABSURD_EPOCH = "99999999999"  # 5138-11-16T09:46:39Z
ABSURD_ISO = "5138-11-16T09:46:39Z"
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    b"<body><h1>We'll be back shortly.</h1></body></html>"
)


@dataclass(frozen=True)
class Decision:
    fault: Fault
    delay: float = 0.0  # real seconds, for SLOW and DRIP


class Faults:
    """Decides, request by request, whether and how each one fails (thread-safe)."""

    def __init__(
        self,
        rate: float,
        seed: int,
        *,
        weights: Mapping[Fault, float] | None = None,
        drip_s: float = 0.05,
    ) -> None:
        if not 0 <= rate <= 1:
            raise ValueError(f"fault rate is a share between 0 and 1, not {rate}")
        self.rate = rate
        self.seed = seed
        self.weights = dict(WEIGHTS if weights is None else weights)
        self.drip_s = drip_s
        self.huge_bytes_sent = 0  # what the server wrote of HUGE bodies (the client stops)
        self.counts: Counter[Fault] = Counter()  # decisions made, by kind
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
        fault = _pick(pick * sum(self.weights.values()), self.weights)
        if fault is Fault.DROP and method == "POST" and after < 0.5:
            fault = Fault.DROP_AFTER
        with self._lock:
            self.counts[fault] += 1
        if fault is Fault.DRIP:
            return Decision(fault, self.drip_s)
        return Decision(fault, delay if fault is Fault.SLOW else 0.0)


def _pick(u: float, weights: Mapping[Fault, float]) -> Fault:
    """The failure a uniform draw `u` (below the weights' sum) falls on."""
    last = Fault.SLOW
    for fault, weight in weights.items():
        if u < weight:
            return fault
        u -= weight
        last = fault
    return last  # rounding


def faulty(platform: Face[Any], faults: Faults) -> Callable[[httpx.Request], httpx.Response]:
    """A `httpx.MockTransport` handler: the platform with faults, without real waiting.

    Drops raise `httpx.RemoteProtocolError` (after applying the request for DROP_AFTER), as
    httpx does when a server closes the connection without answering; SLOW and DRIP answer
    at once; HUGE streams its body, so a client that stops reading never makes all of it.
    """

    routes = Dispatch(platform)

    def handle(request: httpx.Request) -> httpx.Response:
        decision = faults.next(request.method)
        response = answer(routes, request, decision, sleep=None)
        if decision.fault is Fault.HUGE:
            return httpx.Response(200, headers=response.headers, stream=HugeStream())
        return response

    return handle


class HugeStream(httpx.AsyncByteStream):
    """HUGE_BYTES of JSON-ish filler, made chunk by chunk; `served` counts what was taken."""

    CHUNK = 64 * 1024

    def __init__(self, size: int = HUGE_BYTES) -> None:
        self.size = size
        self.served = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.served < self.size:
            n = min(self.CHUNK, self.size - self.served)
            self.served += n
            yield (b"[" + b" " * (n - 1)) if self.served == n else b" " * n


def answer(
    platform: Dispatch,
    request: httpx.Request,
    decision: Decision,
    *,
    sleep: Callable[[float], None] | None = time.sleep,
) -> httpx.Response:
    """The platform's answer to a request under a fault decision (raises for drops)."""
    fault = decision.fault
    if fault is Fault.HTML:
        return httpx.Response(200, headers={"content-type": "text/html"}, content=HTML_PAGE)
    if fault is Fault.ABSURD_RESET:
        return _absurd_reset(platform.refuse(request, 429))
    if fault is Fault.BROKEN_JSON:
        whole = platform.handle(request)
        cut = whole.content[: len(whole.content) // 2]
        return httpx.Response(whole.status_code, headers=_plain(whole.headers), content=cut)
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


def _plain(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.multi_items() if k.lower() != "content-length"]


def _absurd_reset(response: httpx.Response) -> httpx.Response:
    """A 429 whose rate-limit reset (epoch seconds or ISO 8601) is in the year 5138."""
    for key, value in list(response.headers.items()):
        if key.lower().endswith(("ratelimit-reset", "rate-limit-reset")):
            response.headers[key] = ABSURD_EPOCH if value.strip().isdigit() else ABSURD_ISO
    return response
