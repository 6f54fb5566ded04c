"""The Mastodon channel: post a probe as a status, reconcile an unknown outcome, read the inbox.

One inbox poll costs one read of the probe account's mention notifications (paginated by
`Link` headers), however many probes are open. Endpoints as documented at
https://docs.joinmastodon.org/methods/ (accounts/verify_credentials, accounts/lookup,
search, statuses, accounts/:id/statuses, notifications).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Unpack

import httpx

from probes.answers import platform_id
from probes.channels.base import (
    AuthError,
    Closer,
    Cursor,
    OutcomeUnknown,
    RateLimit,
    Reply,
    Sent,
    Unreadable,
    Wiring,
)
from probes.channels.common import Api, Retries, make_client, newer, newest_id, oldest_first
from probes.channels.http import Requester, status_text
from probes.channels.mastodon import parse as mp
from probes.channels.mastodon import policy as mpolicy
from probes.channels.ratelimits import RateLimitHeaders
from probes.channels.registry import http_access
from study.clock import Clock
from study.errors import StudyError
from study.model import ChannelSettings, PlannedProbe
from study.timeutil import utc

MASTODON_RATE_LIMIT = RateLimitHeaders(
    "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"
)
MASTODON_API = Api("Mastodon API", MASTODON_RATE_LIMIT, mp.describe)

# Keys of `MastodonChannel.rate_limits`.
VERIFY = "GET /api/v1/accounts/verify_credentials"
LOOKUP = "GET /api/v1/accounts/lookup"
SEARCH = "GET /api/v2/search"
CREATE_STATUS = "POST /api/v1/statuses"
ACCOUNT_STATUSES = "GET /api/v1/accounts/:id/statuses"
NOTIFICATIONS = "GET /api/v1/notifications"
POLICY = f"GET {mpolicy.PATH}"

VISIBILITIES = ("public", "unlisted", "private", "direct")
NOTIFICATIONS_LIMIT = "80"  # Mastodon's maximum page (twice its default of 40)
STATUSES_LIMIT = "40"  # ... and for account statuses (twice 20)
MAX_PAGES = 1000  # a guard against a server that never stops handing out `next` links
ROOTS_KEPT = 10_000  # thread roots remembered, for replies to replies


class _Requester(Requester):
    """`Requester` whose rate-limit resets are whole seconds."""

    def _remember(self, endpoint: str, response: httpx.Response) -> None:
        # Mastodon's resets carry the microseconds of the moment it answered. Rounded up to
        # the second, a retry scheduled at the reset and stored to the millisecond (the
        # journal) never falls a fraction before it, when the budget is still spent.
        super()._remember(endpoint, response)
        limit = self.rate_limits.get(endpoint)
        if limit is not None and limit.reset_at is not None and limit.reset_at.microsecond:
            whole = limit.reset_at.replace(microsecond=0) + timedelta(seconds=1)
            self.rate_limits[endpoint] = replace(limit, reset_at=whole)


class MastodonChannel:
    """The Mastodon API for one probe account (the account the client's token belongs to).

    `instance` is the domain of the probe account's instance: replies from its local
    accounts name them without one, and `Reply.author` is always `user@instance`.
    """

    name = "mastodon"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account: str,
        instance: str,
        clock: Clock,
        visibility: str = "public",
        **retries: Unpack[Retries],
    ) -> None:
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility {visibility!r} is not one of {VISIBILITIES}")
        self.account = account.lstrip("@").split("@")[0]
        self.instance = instance.lower()
        self.clock = clock
        self.visibility = visibility
        self._http = _Requester(client, clock=clock, api=MASTODON_API, **retries)
        self._me: str | None = None
        # reply id -> its thread's root (a probe), for replies to replies seen in this run
        self._roots: dict[str, str] = {}

    @property
    def rate_limits(self) -> dict[str, RateLimit]:
        """The last budget Mastodon reported per endpoint, for the progress display."""
        return self._http.rate_limits

    async def me(self) -> str:
        """The probe account's id; checks that the token belongs to `account`."""
        if self._me is None:
            body = mp.as_object(await self._get(VERIFY, "/api/v1/accounts/verify_credentials"))
            username = str(body.get("username", ""))
            if "id" not in body:
                raise AuthError(
                    "Mastodon API GET /api/v1/accounts/verify_credentials named no account"
                )
            if username.casefold() != self.account.casefold():
                raise AuthError(
                    f"the Mastodon token belongs to @{username}@{self.instance}, not to the probe "
                    f"account @{self.account}@{self.instance} named in the study; use a token "
                    f"of @{self.account}"
                )
            self._me = str(body["id"])
        return self._me

    async def lookup(self, acct: str) -> dict[str, Any] | None:
        """The account `user@instance`, or None when it does not exist.

        accounts/lookup only knows the accounts the probe account's instance has seen; for
        one on another instance that it has not, the instance is asked to resolve the handle
        by WebFinger (search with resolve=true, as its own search box does)."""
        handle = acct.strip().lstrip("@")
        response = await self._http.get(LOOKUP, "/api/v1/accounts/lookup", {"acct": handle})
        if response.status_code == 404:
            return await self._resolve(handle) if self._is_remote(handle) else None
        if response.is_error:
            raise self._http.rejected(response, "GET /api/v1/accounts/lookup")
        found = mp.as_object(mp.response_body(response))
        return found or None

    def _is_remote(self, handle: str) -> bool:
        _, _, domain = handle.partition("@")
        return bool(domain) and domain.lower() != self.instance.lower()

    async def _resolve(self, handle: str) -> dict[str, Any] | None:
        params = {"q": f"@{handle}", "type": "accounts", "resolve": "true", "limit": "5"}
        response = await self._http.get(SEARCH, "/api/v2/search", params)
        if response.is_error:
            raise self._http.rejected(response, "GET /api/v2/search")
        body = mp.as_object(mp.response_body(response))
        for account in body.get("accounts") or []:
            acct = str(account.get("acct", "")) if isinstance(account, dict) else ""
            if acct.lower() == handle.lower():  # a remote account's acct is user@domain
                return mp.as_object(account)
        return None

    async def send(self, probe: PlannedProbe) -> Sent:
        """Post the probe's text as a status. Never retried here (see probes.channels.http)."""
        await self.me()  # never post from an account other than the study's probe account
        what = "POST /api/v1/statuses"
        # Mastodon keeps an Idempotency-Key for an hour: a POST repeated with the same key
        # returns the status the first one made instead of posting it twice. The runner
        # still reconciles (find_sent) before sending again; this guards what slips through.
        response = await self._http.post(
            CREATE_STATUS,
            "/api/v1/statuses",
            {"status": probe.text, "visibility": self.visibility},
            headers={"Idempotency-Key": probe.probe_id},
        )
        status = response.status_code
        if status in (401, 403):
            raise AuthError(self._http.auth_message(response, what))
        if response.is_error:
            raise self._http.rejected(response, f"{what} for probe {probe.probe_id}")
        body = mp.as_object(mp.response_body(response))
        when = mp.created_at(body)
        status_id = platform_id(body.get("id"))
        if status_id is None:
            raise OutcomeUnknown(
                f"Mastodon API answered {status_text(response)} to {what} for probe "
                f"{probe.probe_id} without a usable status id; reconcile"
            )
        # The persona's follower count at the send: a covariate the status carries free.
        return Sent(probe.probe_id, status_id, when or self.clock.now(), mp.followers(body))

    async def find_sent(self, probe: PlannedProbe, since: datetime) -> Sent | None:
        """The probe among the account's own statuses since `since` (our clock), oldest match
        first. Statuses carry the instance's clock: `since` is moved onto it (its Date)."""
        me = await self.me()
        since = self._http.platform_time(utc(since))
        wanted = mp.comparable(probe.text)
        found: list[tuple[datetime, str]] = []
        path = f"/api/v1/accounts/{me}/statuses"
        pages = self._pages(ACCOUNT_STATUSES, path, {"limit": STATUSES_LIMIT})
        async with aclosing(pages):
            async for page in pages:
                statuses = mp.as_list(page)
                for s in statuses:
                    when, status_id = mp.created_at(s), platform_id(s.get("id"))
                    if when is None or when < since or status_id is None:
                        continue
                    if mp.comparable(mp.plain_text(str(s.get("content") or ""))) == wanted:
                        found.append((when, status_id))
                times = [t for t in (mp.created_at(s) for s in statuses) if t is not None]
                if not times or min(times) < since:
                    break  # newest first: everything further is older still
        if not found:
            return None
        when, status_id = min(found)
        return Sent(probe.probe_id, status_id, when)

    async def inbox(self, since: Cursor | None) -> tuple[list[Reply], Cursor]:
        """New mentions (public replies and direct statuses) since the cursor, oldest first,
        and the cursor after them."""
        me = await self.me()
        cursor: Cursor = dict(since or {})
        since_id = cursor.get("notifications_since_id")
        # Filtered notifications too: the probe account's policy may file brands' replies as
        # filtered, returned only on request (docs.joinmastodon.org/methods/notifications/).
        params = {"types[]": "mention", "limit": NOTIFICATIONS_LIMIT, "include_filtered": "true"}
        if since_id:
            params["since_id"] = since_id
        statuses: list[Mapping[str, Any]] = []
        newest = since_id
        pages = self._pages(NOTIFICATIONS, "/api/v1/notifications", params)
        async with aclosing(pages):
            async for page in pages:
                items = mp.as_list(page)
                fresh = [n for n in items if since_id is None or newer(str(n.get("id")), since_id)]
                statuses += mp.mention_statuses(fresh, me)
                newest = newest_id((str(n.get("id", "")) for n in fresh), newest)
                if len(fresh) < len(items):
                    break  # reached what an earlier poll read
        replies = [r for r in (self._reply(s) for s in mp.oldest_first_statuses(statuses)) if r]
        if newest is not None:
            cursor["notifications_since_id"] = newest
        return oldest_first(replies), cursor

    async def notification_policy(self) -> dict[str, Any] | None:
        """The probe account's notification policy, or None from a server before 4.3 (404:
        it files nothing away)."""
        response = await self._http.get(POLICY, mpolicy.PATH)
        if response.status_code == 404:
            return None
        if response.is_error:
            raise self._http.rejected(response, POLICY)
        return mp.as_object(self._http.body(response, POLICY))

    async def policy_warnings(self) -> list[str]:
        """What the notification policy means for the study: a warning when it filters
        brands' replies; StudyError when it drops them."""
        policy = await self.notification_policy() or {}
        who = f"{self.account}@{self.instance}"
        dropped = mpolicy.dropping(policy)
        if dropped:
            raise StudyError(mpolicy.drop_message(who, dropped))
        filtered = mpolicy.filtering(policy)
        return [mpolicy.filter_message(who, filtered)] if filtered else []

    # -- plumbing --------------------------------------------------------------------------

    def _reply(self, status: Mapping[str, Any]) -> Reply | None:
        """The inbox item of a status, with its thread's root when this run knows it: a
        reply to one of the probe account's statuses (probes start threads) or to a reply
        seen before."""
        parent, status_id = platform_id(status.get("in_reply_to_id")), platform_id(status.get("id"))
        root: str | None = None
        if parent is not None:
            if str(status.get("in_reply_to_account_id")) == self._me:
                root = self._roots.get(parent, parent)
            else:
                root = self._roots.get(parent)
        if root is not None and status_id is not None:
            if len(self._roots) >= ROOTS_KEPT:
                self._roots.pop(next(iter(self._roots)))
            self._roots[status_id] = root
        return mp.status_reply(status, self.instance, root)

    async def _get(
        self, endpoint: str, path: str, params: Mapping[str, str] | None = None
    ) -> object:
        response = await self._http.get(endpoint, path, params)
        if response.is_error:
            raise self._http.rejected(response, f"GET {path}")
        return self._http.body(response, f"GET {path}")

    async def _pages(
        self, endpoint: str, path: str, params: Mapping[str, str]
    ) -> AsyncGenerator[object, None]:
        """Pages of a paginated read, newest first, following `Link: <...>; rel="next"`.

        Only the link's query is used, always against our own base URL: the token never
        goes to a host named by a response. Mastodon drops `since_id` from its `next` links,
        so it is carried over: the last page is then empty, or has no `next` link.
        """
        query = httpx.QueryParams(params)
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response = await self._http.get(endpoint, path, query)
            if response.is_error:
                raise self._http.rejected(response, f"GET {path}")
            body = self._http.body(response, f"GET {path}")
            if not isinstance(body, list):
                raise Unreadable(
                    f"Mastodon API GET {path} answered JSON that is not a list of items "
                    f"({type(body).__name__})"
                )
            yield body
            following = response.links.get("next", {}).get("url")
            if not following or not mp.as_list(body):
                return
            url = httpx.URL(following)
            if url.path.rstrip("/") != path.rstrip("/") or str(url.params) in seen:
                return
            seen.add(str(url.params))
            query = url.params
            for key in ("since_id", "types[]", "limit", "include_filtered"):
                if key in params and key not in query:
                    query = query.set(key, params[key])
        raise Unreadable(f"Mastodon API GET {path} kept paginating past {MAX_PAGES} pages")


def build(settings: ChannelSettings, wiring: Wiring) -> tuple[MastodonChannel, Closer]:
    """The channel of a study's `[channels.mastodon]` settings, and how to close its client
    (the registry's contract, probes/channels/registry.py).

    `api_base` (`--api-base`) overrides the instance's URL; the instance's domain, which
    completes local accounts' handles, stays the one study.toml names.
    """
    base, token = http_access(settings, wiring)
    visibility = dict(settings.options).get("visibility", "public")
    if visibility not in VISIBILITIES:
        raise StudyError(
            f"study.toml [channels.{settings.name}]: visibility {visibility!r} is not one of "
            f"{', '.join(VISIBILITIES)}"
        )
    client = make_client(base, token)
    channel = MastodonChannel(
        client,
        account=settings.account,
        instance=mp.instance_of(settings.api_base or base),
        clock=wiring.clock,
        visibility=visibility,
    )
    return channel, client.aclose


async def preflight(channel: MastodonChannel) -> list[str]:
    """Check the token before anything is written: it must belong to the probe account
    (GET /api/v1/accounts/verify_credentials; AuthError otherwise); and the account's
    notification policy must not drop brands' replies (StudyError). Returns the warnings."""
    await channel.me()
    return await channel.policy_warnings()
