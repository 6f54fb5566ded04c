"""Retries, backoff, rate limits and bounds shared by the HTTP channel adapters (X, Mastodon,
Bluesky).

The rules every adapter follows:

- Every exchange is whole and bounded: the answer is read to its last byte within `deadline`
  real seconds (httpx's own timeouts are per read, so a server dripping a byte every few
  seconds would hold the runner for ever) and `max_body` bytes (probes.answers).
- A GET is idempotent: 5xx, 429 and network errors are retried here, with exponential
  backoff and full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015),
  sleeping on the injected clock. A GET past its deadline is not retried here: a server
  that slow is tried again at the runner's next read.
- A POST is never retried here: after a timeout or a dropped connection the platform may
  have applied it, so the runner reconciles (`find_sent`) before deciding to send again.
  Only errors that prove nothing left the machine (no connection) are `Transient`.
- The platform's rate-limit headers (read by probes.channels.ratelimits) are remembered per
  endpoint; when an endpoint's budget is spent, the next call waits for its reset instead of
  spending a request on a 429. Its Date header tells how far its clock is from ours.

Nothing here knows a platform's header names or error bodies: the adapter passes them in.
Messages name the method and path, never a header, so a credential cannot leak into them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from probes.answers import JSON as JSON
from probes.answers import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    clock_offset,
    json_value,
    read_capped,
)
from probes.answers import as_object as as_object
from probes.channels.base import (
    AuthError,
    OutcomeUnknown,
    RateLimit,
    Rejected,
    Transient,
    Unreadable,
)
from probes.channels.common import Api
from probes.channels.ratelimits import read_rate_limit
from study.clock import Clock
from study.redact import scrub

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
# Real seconds for one exchange, from connecting to the answer's last byte.
DEADLINE_S = 30.0
# Bodies httpx decodes (gzip, ...) must lose their encoding headers once read: the copy the
# adapters get holds the decoded bytes.
_ENCODING_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
# What a 401 or 403 means for a client that carries a bearer token (Mastodon's, X's static one).
BEARER_REFUSED = "the bearer token is missing, expired or lacks access"


class DeadlineExceeded(httpx.TimeoutException):
    """The whole exchange took longer than the requester's deadline."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n))."""

    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * 2.0**attempt))


def response_json(response: httpx.Response) -> JSON:
    """The body as a JSON object; no body, bad JSON or anything but an object reads as empty."""
    try:
        return as_object(response.json())
    except ValueError:
        return {}


def status_text(response: httpx.Response) -> str:
    """E.g. '401 Unauthorized': the status's standard phrase, never the server's own, which
    is free text that may quote the request (its Authorization header) back."""
    return f"{response.status_code} {httpx.codes.get_reason_phrase(response.status_code)}".strip()


class Requester:
    """Sends one adapter's requests: retries GETs, sends POSTs once, tracks rate limits.

    `api` names the platform in messages ("X API"), its rate-limit headers, and how to turn
    an error response into a short text; `secrets` gives the credentials that are not in
    the client's headers (those an `httpx.Auth` adds), to scrub from messages; `refusal` says
    what a 401 or 403 means for the credential the client carries (default: a bearer token).
    Statuses the adapter must judge itself (2xx, 4xx other than 429, and 401/403 on a POST)
    come back as the response.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Clock,
        api: Api,
        rng: random.Random | None = None,
        max_retries: int = 5,
        backoff: Backoff | None = None,
        max_rate_wait: float = 16 * 60.0,
        deadline: float = DEADLINE_S,
        max_body: int = MAX_BODY_BYTES,
        secrets: Callable[[], Iterable[str]] = tuple,
        refusal: Callable[[], str] = lambda: BEARER_REFUSED,
    ) -> None:
        self.client = client
        self.secrets = secrets
        self.refusal = refusal
        self.clock = clock
        self.service = api.name
        self.headers = api.headers
        self.describe = api.describe
        self.rng = rng if rng is not None else random.Random()
        self.max_retries = max_retries
        self.backoff = backoff if backoff is not None else Backoff()
        # A wait longer than this (e.g. a 24-hour posting budget) is handed to the runner as
        # Transient(retry_at=...) instead of blocking every other channel meanwhile.
        self.max_rate_wait = max_rate_wait
        self.rate_limits: dict[str, RateLimit] = {}
        self.deadline = deadline
        self.max_body = max_body
        # How far the platform's clock is ahead of ours (its last believable Date header).
        self.clock_offset: timedelta | None = None

    # -- one exchange --------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str | None = None,
        params: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One exchange, read whole: raises DeadlineExceeded (an httpx.TransportError) past
        `deadline` real seconds and BodyTooLarge past `max_body` bytes, without reading the
        rest. Remembers the Date header and (under `endpoint`) the rate-limit headers."""
        request = self.client.build_request(method, path, params=params, json=json, headers=headers)
        try:
            async with asyncio.timeout(self.deadline):
                response = await self.client.send(request, stream=True)
                try:
                    declared = response.headers.get("content-length")
                    content = await read_capped(response.aiter_bytes(), declared, self.max_body)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise DeadlineExceeded(
                f"no whole answer within {self.deadline:g} s", request=request
            ) from exc
        kept = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in _ENCODING_HEADERS
        ]
        whole = httpx.Response(
            response.status_code,
            headers=kept,
            content=content,
            request=request,
            extensions=response.extensions,
        )
        offset = clock_offset(whole.headers.get("date"), self.clock.now())
        if offset is not None:
            self.clock_offset = offset
        if endpoint is not None:
            self._remember(endpoint, whole)
        return whole

    def platform_time(self, ours: datetime) -> datetime:
        """An instant of our clock on the platform's clock, as far as its Date headers say
        (unchanged until one was seen)."""
        return ours + (self.clock_offset or timedelta(0))

    def body(self, response: httpx.Response, what: str) -> object:
        """A read's JSON body; Unreadable (scrubbed) when it is not JSON."""
        try:
            return json_value(response.content, f"{self.service} {what}")
        except Unreadable as e:
            raise Unreadable(self._scrub(str(e))) from None

    def body_object(self, response: httpx.Response, what: str) -> JSON:
        """A read's body that must be a JSON object; Unreadable otherwise."""
        body = self.body(response, what)
        if not isinstance(body, dict):
            raise Unreadable(
                f"{self.service} {what} answered JSON that is not an object ({type(body).__name__})"
            )
        return body

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
                response = await self.request("GET", path, endpoint=endpoint, params=params)
            except DeadlineExceeded as exc:
                raise Transient(f"{self.service} {what}: {exc}; not retried now") from exc
            except BodyTooLarge as exc:
                raise Unreadable(f"{self.service} {what} answered {exc}; refused") from exc
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__} ({self._scrub(str(exc)) or 'no detail'})"
            else:
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
            response = await self.request(
                "POST", path, endpoint=endpoint, json=json, headers=headers
            )
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
        except BodyTooLarge as exc:
            raise OutcomeUnknown(
                f"{self.service} {what} answered {exc}, unread: the post may or may not "
                "exist; reconcile before sending again"
            ) from exc
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
            f"{self.service} answered {status_text(response)} for {what}: {self.refusal()}"
            f"{self._detail(response)}"
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
        return scrub(text, (auth, auth.partition(" ")[2], *self.secrets()))

    # -- rate limits and waiting ---------------------------------------------------------

    def _remember(self, endpoint: str, response: httpx.Response) -> None:
        limit = read_rate_limit(endpoint, response.headers, self.headers, self.clock.now())
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
