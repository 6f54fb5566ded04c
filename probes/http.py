"""Retries, backoff and rate limits shared by the HTTP channel adapters (X, Mastodon, Bluesky).

The rules every adapter follows:

- A GET is idempotent: 5xx, 429 and network errors are retried here, with exponential
  backoff and full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015),
  sleeping on the injected clock.
- A POST is never retried here: after a timeout or a dropped connection the platform may
  have applied it, so the runner reconciles (`find_sent`) before deciding to send again.
  Only errors that prove nothing left the machine (no connection) are `Transient`.
- The platform's rate-limit headers are remembered per endpoint; when an endpoint's budget
  is spent, the next call waits for its reset instead of spending a request on a 429.

Nothing here knows a platform's header names or error bodies: the adapter passes them in.
Messages name the method and path, never a header, so a credential cannot leak into them.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from probes.channel import AuthError, OutcomeUnknown, RateLimit, Rejected, Transient
from study.clock import Clock
from study.redact import scrub
from study.timeutil import from_epoch, parse_iso

log = logging.getLogger(__name__)

# Raised before any byte of the request left the machine: the request was certainly not
# applied, so even a POST may be tried again later.
NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


@dataclass(frozen=True)
class RateLimitHeaders:
    """The names a platform gives its rate-limit headers (case does not matter)."""

    limit: str
    remaining: str
    reset: str  # epoch seconds (X, Bluesky) or ISO 8601 (Mastodon): both are understood


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n))."""

    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * 2.0**attempt))


def parse_reset(text: str | None) -> datetime | None:
    """A reset instant from epoch seconds or ISO 8601; None when absent or unreadable."""
    if text is None or not text.strip():
        return None
    s = text.strip()
    try:
        return from_epoch(float(s))
    except ValueError:
        pass
    try:
        return parse_iso(s)
    except ValueError:
        return None


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def read_rate_limit(
    endpoint: str, headers: Mapping[str, str], names: RateLimitHeaders
) -> RateLimit | None:
    """The budget a response reports for `endpoint`, or None when it reports none."""
    limit = _int_or_none(headers.get(names.limit))
    remaining = _int_or_none(headers.get(names.remaining))
    reset_at = parse_reset(headers.get(names.reset))
    if limit is None and remaining is None and reset_at is None:
        return None
    return RateLimit(endpoint, limit, remaining, reset_at)


JSON = dict[str, Any]


def as_object(body: object) -> JSON:
    """The body as a JSON object; anything else (a list, a string) reads as empty."""
    return body if isinstance(body, dict) else {}


def response_json(response: httpx.Response) -> JSON:
    """The body as a JSON object; no body, bad JSON or anything but an object reads as empty."""
    try:
        return as_object(response.json())
    except ValueError:
        return {}


def status_text(response: httpx.Response) -> str:
    """E.g. '401 Unauthorized'."""
    return f"{response.status_code} {response.reason_phrase}".strip()


class Requester:
    """Sends one adapter's requests: retries GETs, sends POSTs once, tracks rate limits.

    `describe` turns an error response into a short text from the platform's error body;
    `service` names the platform in messages ("X API"). Statuses the adapter must judge
    itself (2xx, 4xx other than 429, and 401/403 on a POST) come back as the response.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Clock,
        service: str,
        headers: RateLimitHeaders,
        describe: Callable[[httpx.Response], str],
        rng: random.Random | None = None,
        max_retries: int = 5,
        backoff: Backoff | None = None,
        max_rate_wait: float = 16 * 60.0,
    ) -> None:
        self.client = client
        self.clock = clock
        self.service = service
        self.headers = headers
        self.describe = describe
        self.rng = rng if rng is not None else random.Random()
        self.max_retries = max_retries
        self.backoff = backoff if backoff is not None else Backoff()
        # A wait longer than this (e.g. a 24-hour posting budget) is handed to the runner as
        # Transient(retry_at=...) instead of blocking every other channel meanwhile.
        self.max_rate_wait = max_rate_wait
        self.rate_limits: dict[str, RateLimit] = {}

    # -- the two verbs -------------------------------------------------------------------

    async def get(
        self, endpoint: str, path: str, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """GET with retries. Raises AuthError on 401/403 and Transient when retries run out."""
        what = f"GET {path}"
        attempt = 0
        while True:
            await self._wait_for_budget(endpoint, what)
            retry_at: datetime | None = None
            try:
                response = await self.client.get(path, params=params)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__} ({self._scrub(str(exc)) or 'no detail'})"
            else:
                self._remember(endpoint, response)
                status = response.status_code
                if status in (401, 403):
                    raise AuthError(self.auth_message(response, what))
                if status != 429 and status < 500:
                    return response
                problem = f"{status_text(response)}{self._detail(response)}"
                if status == 429:
                    retry_at = self._reset_at(endpoint)
            if attempt >= self.max_retries:
                raise Transient(
                    f"{self.service} {what} failed after {attempt + 1} attempts: {problem}",
                    retry_at=retry_at,
                )
            delay = self._retry_delay(attempt, retry_at)
            if delay > self.max_rate_wait:
                raise Transient(f"{self.service} {what}: {problem}", retry_at=retry_at)
            log.info("%s %s: %s; retrying in %.1f s", self.service, what, problem, delay)
            await self.clock.sleep(delay)
            attempt += 1

    async def post(
        self, endpoint: str, path: str, json: Any, *, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """POST exactly once (with `headers` added, e.g. an Idempotency-Key). Raises Transient
        when it certainly was not applied (no connection, 429, budget known to be spent) and
        OutcomeUnknown when it may have been (5xx, timeout, dropped connection); any other
        response is returned."""
        what = f"POST {path}"
        limit = self.rate_limits.get(endpoint)
        if limit is not None and limit.remaining == 0 and self._future(limit.reset_at):
            raise Transient(
                f"{self.service} {what}: rate limit spent until {limit.reset_at}; not sent",
                retry_at=limit.reset_at,
            )
        try:
            response = await self.client.post(path, json=json, headers=headers)
        except NOT_SENT as exc:
            raise Transient(
                f"{self.service} {what}: could not connect, nothing was sent: "
                f"{type(exc).__name__} ({self._scrub(str(exc))})"
            ) from exc
        except httpx.TransportError as exc:
            raise OutcomeUnknown(
                f"{self.service} {what}: {type(exc).__name__} ({self._scrub(str(exc))}) "
                "after the request may have been sent; reconcile before sending again"
            ) from exc
        self._remember(endpoint, response)
        if response.status_code == 429:
            raise Transient(
                f"{self.service} {what}: {status_text(response)}{self._detail(response)}",
                retry_at=self._reset_at(endpoint),
            )
        if response.status_code >= 500:
            raise OutcomeUnknown(
                f"{self.service} {what}: {status_text(response)}{self._detail(response)}; "
                "the post may or may not exist; reconcile before sending again"
            )
        return response

    # -- messages ------------------------------------------------------------------------

    def auth_message(self, response: httpx.Response, what: str) -> str:
        return (
            f"{self.service} answered {status_text(response)} for {what}: the bearer token "
            f"is missing, expired or lacks access{self._detail(response)}"
        )

    def rejected(self, response: httpx.Response, what: str) -> Rejected:
        return Rejected(
            f"{self.service} refused {what}: {status_text(response)}{self._detail(response)}"
        )

    def _detail(self, response: httpx.Response) -> str:
        text = self._scrub(self.describe(response))
        if not text or text.casefold() == response.reason_phrase.casefold():
            return ""
        return f" ({text})"

    def _scrub(self, text: str) -> str:
        """Remove the credential the client carries, should a message ever echo it."""
        auth = self.client.headers.get("authorization", "")
        return scrub(text, (auth, auth.partition(" ")[2]))

    # -- rate limits and waiting ---------------------------------------------------------

    def _remember(self, endpoint: str, response: httpx.Response) -> None:
        limit = read_rate_limit(endpoint, response.headers, self.headers)
        if limit is not None:
            self.rate_limits[endpoint] = limit

    def _future(self, when: datetime | None) -> bool:
        return when is not None and when > self.clock.now()

    def _reset_at(self, endpoint: str) -> datetime | None:
        limit = self.rate_limits.get(endpoint)
        return limit.reset_at if limit is not None else None

    def _retry_delay(self, attempt: int, retry_at: datetime | None) -> float:
        if self._future(retry_at):
            assert retry_at is not None
            return self._seconds_until(retry_at)
        return self.backoff.delay(attempt, self.rng)

    def _seconds_until(self, reset_at: datetime) -> float:
        # One second past the reset: the platform's clock and ours may disagree slightly.
        return (reset_at + timedelta(seconds=1) - self.clock.now()).total_seconds()

    async def _wait_for_budget(self, endpoint: str, what: str) -> None:
        limit = self.rate_limits.get(endpoint)
        if limit is None or limit.remaining != 0 or not self._future(limit.reset_at):
            return
        assert limit.reset_at is not None
        delay = self._seconds_until(limit.reset_at)
        if delay > self.max_rate_wait:
            raise Transient(
                f"{self.service} {what}: rate limit spent until {limit.reset_at}",
                retry_at=limit.reset_at,
            )
        log.info("%s %s: rate limit spent; waiting %.0f s for its reset", self.service, what, delay)
        await self.clock.sleep(delay)
