"""The X (Twitter) API v2 channel: post a probe, reconcile an unknown outcome, read the inbox.

One inbox poll costs one read of the mentions timeline and one read of the DM events (each
paginated), however many probes are open. Endpoints and fields as documented at
https://docs.x.com/x-api (users/me, users/by/username, tweets, DELETE tweets/:id,
users/:id/tweets, users/:id/mentions, dm_events).
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import Any, Unpack

import httpx

from probes.answers import BodyTooLarge, platform_id
from probes.channels.base import (
    AuthError,
    ChannelError,
    Closer,
    Cursor,
    DuplicateContent,
    OutcomeUnknown,
    RateLimit,
    Rejected,
    Reply,
    Sent,
    Transient,
    Unreadable,
    Wiring,
)
from probes.channels.common import Api, Retries, newer, newest_id, oldest_first
from probes.channels.http import Requester, status_text
from probes.channels.ratelimits import RateLimitHeaders
from probes.channels.registry import api_base_of, check_api_base, is_loopback
from probes.channels.x import parse as xp
from probes.channels.x.client import (
    auth_refusal,
    auth_secrets,
    drill_crash,
    make_signed_client,
)
from probes.channels.x.credentials import APP_ONLY_FIX, x_credential
from study.clock import Clock
from study.model import ChannelSettings, PlannedProbe
from study.timeutil import iso, utc

X_RATE_LIMIT = RateLimitHeaders(
    "x-rate-limit-limit",
    "x-rate-limit-remaining",
    "x-rate-limit-reset",
    # X's 24-hour budgets (POST /2/tweets: 10,000 per app), reported beside the 15-minute one.
    also=tuple(
        RateLimitHeaders(f"{p}-limit", f"{p}-remaining", f"{p}-reset")
        for p in ("x-app-limit-24hour", "x-user-limit-24hour")
    ),
)
X_API = Api("X API", X_RATE_LIMIT, xp.describe)

# Keys of `XChannel.rate_limits`: X budgets each endpoint separately.
ME = "GET /2/users/me"
USER_BY_NAME = "GET /2/users/by/username/:username"
CREATE_POST = "POST /2/tweets"
DELETE_POST = "DELETE /2/tweets/:id"
USER_POSTS = "GET /2/users/:id/tweets"
MENTIONS = "GET /2/users/:id/mentions"
DM_EVENTS = "GET /2/dm_events"

MENTION_FIELDS = "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,author_id"
DM_FIELDS = "id,text,created_at,sender_id,dm_conversation_id,referenced_tweets"
USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
# users/me with the account's public_metrics (followers_count), as the recordings show them
# (shared fixtures x/twarc/*.jsonl); https://docs.x.com/x-api/users/user-lookup-me
ME_FIELDS = {"user.fields": "public_metrics"}
# A follower count read this recently is the count at a send: 4 reads an hour at most, well
# inside users/me's 75 per 15 minutes.
FOLLOWERS_FRESH = timedelta(minutes=15)
MAX_PAGES = 1000  # a guard against a platform that never stops handing out next_tokens


def build(settings: ChannelSettings, wiring: Wiring) -> tuple[XChannel, Closer]:
    """The X channel of a study's `[channels.x]` settings, and how to close its client
    (the registry's contract, probes/channels/registry.py); `wiring.store` holds an OAuth 2.0
    pair."""
    base = api_base_of(settings, wiring.api_base)
    check_api_base(base, live=wiring.live, channel=settings.name)
    credential = x_credential(settings, wiring.env, loopback=is_loopback(base))
    client = make_signed_client(
        base,
        credential,
        account=settings.account,
        clock=wiring.clock,
        store=wiring.store,
        crash=drill_crash(wiring.env),
    )
    channel = XChannel(client, account=settings.account, clock=wiring.clock)
    channel.credential_var = settings.token_env
    return channel, client.aclose


async def preflight(channel: XChannel) -> None:
    """Check the credential before anything is written: it must be a user's (an app-only
    bearer token cannot post) and belong to the probe account."""
    await channel.me()


class XChannel:
    """X API v2 for one probe account (the account the client's token belongs to)."""

    name = "x"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account: str,
        clock: Clock,
        **retries: Unpack[Retries],
    ) -> None:
        self.account = account.lstrip("@")
        self.clock = clock
        # What the client's auth carries (an OAuth 2.0 pair, OAuth 1.0a keys) never reaches a
        # message, should X ever echo it: the Requester scrubs its bearer header only.
        self._http = Requester(
            client,
            clock=clock,
            api=X_API,
            secrets=lambda: auth_secrets(client.auth),
            refusal=lambda: auth_refusal(client.auth),  # named by the credential in use
            **retries,
        )
        self._me: str | None = None
        self.followers: int | None = None  # the account's follower count, as last read
        self._followers_at: datetime | None = None
        self.credential_var = ""  # the variable of a static bearer token, for messages

    @property
    def rate_limits(self) -> dict[str, RateLimit]:
        """The last budget X reported per endpoint, for the runner's progress display."""
        return self._http.rate_limits

    async def me(self) -> str:
        """The probe account's user id; checks that the token belongs to `account`."""
        if self._me is None:
            try:
                body = await self._get(ME, "/2/users/me", ME_FIELDS)
            except AuthError as e:
                if "unsupported-authentication" in str(e) or "Unsupported Authentication" in str(e):
                    var = self.credential_var or "the token variable"
                    raise AuthError(APP_ONLY_FIX.format(var=var)) from None
                raise
            user = xp.as_object(body.get("data"))
            username = str(user.get("username", ""))
            if "id" not in user:
                raise AuthError(f"X API GET /2/users/me named no user: {xp.problem_text(body)}")
            if username.casefold() != self.account.casefold():
                raise AuthError(
                    f"the X token belongs to @{username}, not to the probe account "
                    f"@{self.account} named in the study; use a token of @{self.account}"
                )
            self._me = str(user["id"])
            self._read_followers(user)
        return self._me

    def _read_followers(self, user: dict[str, Any]) -> None:
        metrics = user.get("public_metrics")
        count = metrics.get("followers_count") if isinstance(metrics, dict) else None
        self.followers = count if isinstance(count, int) and count >= 0 else None
        self._followers_at = self.clock.now()

    async def _fresh_followers(self) -> int | None:
        """The account's follower count for a send (a covariate of the analysis): read from
        users/me at most once per `FOLLOWERS_FRESH`; a failed read leaves the last count, as
        a send must not fail for want of it."""
        at = self._followers_at
        if at is None or self.clock.now() - at >= FOLLOWERS_FRESH:
            try:
                body = await self._get(ME, "/2/users/me", ME_FIELDS)
            except ChannelError:
                return self.followers
            self._read_followers(xp.as_object(body.get("data")))
        return self.followers

    async def lookup(self, username: str) -> dict[str, Any] | None:
        """The user object of `username` (id, name, username), or None if X has no such user."""
        user, _ = await self.lookup_account(username)
        return user

    async def lookup_account(self, username: str) -> tuple[dict[str, Any] | None, str]:
        """The user object of `username`, or None and X's reason when it has no such user to
        show (e.g. "User has been suspended: [name]." or "Could not find user with ...")."""
        handle = username.lstrip("@")
        if not USERNAME.fullmatch(handle):
            raise Rejected(f"{username!r} is not an X username (1-15 letters, digits or '_')")
        path = f"/2/users/by/username/{handle}"
        response = await self._http.get(USER_BY_NAME, path)
        body = xp.response_json(response)
        if response.status_code == 404:
            return None, xp.problem_text(body) or "Not Found"
        if response.is_error:
            raise self._http.rejected(response, f"GET {path}")
        user = body.get("data")
        if isinstance(user, dict):
            return user, ""
        if xp.is_not_found(body):
            return None, xp.problem_text(body)
        raise self._http.rejected(response, f"GET {path}")

    async def delete(self, post_id: str) -> bool:
        """Delete one of the probe account's posts: True when X deleted it now, False when it
        was already gone. Sent once; a repeat does no harm (a 429 or 5xx is `Transient`, with
        X's reset time for a 429, and the caller may simply try again)."""
        await self.me()  # never delete with a token of an account other than the probe account
        if not post_id.isdigit():
            raise Rejected(f"{post_id!r} is not an X post id; it cannot be deleted")
        path = f"/2/tweets/{post_id}"
        what = f"DELETE {path}"
        spent = self.rate_limits.get(DELETE_POST)
        now = self.clock.now()
        if spent is not None and spent.remaining == 0 and (spent.reset_at or now) > now:
            raise Transient(
                f"X API {what}: rate limit spent until {iso(spent.reset_at or now)}; not sent",
                retry_at=spent.reset_at,
            )
        try:
            response = await self._http.request("DELETE", path, endpoint=DELETE_POST)
        except (httpx.TransportError, BodyTooLarge) as exc:
            raise Transient(f"X API {what}: {type(exc).__name__}; try again later") from exc
        limit = self.rate_limits.get(DELETE_POST)
        status = response.status_code
        if status == 429 or status >= 500:
            raise Transient(
                f"X API {what}: {status_text(response)}",
                retry_at=limit.reset_at if status == 429 and limit is not None else None,
            )
        body = xp.response_json(response)
        if status == 404 or xp.is_not_found(body):
            return False
        if status in (401, 403):
            raise AuthError(self._http.auth_message(response, what))
        if response.is_error:
            raise self._http.rejected(response, what)
        deleted = xp.as_object(body.get("data")).get("deleted")
        if isinstance(deleted, bool):
            return deleted
        raise Rejected(f"X API answered {status_text(response)} to {what} without 'deleted'")

    async def send(self, probe: PlannedProbe) -> Sent:
        """Post the probe's text as a new post. Never retried here (see probes.channels.http)."""
        await self.me()  # never post from an account other than the study's probe account
        what = "POST /2/tweets"
        response = await self._http.post(CREATE_POST, "/2/tweets", {"text": probe.text})
        body = xp.response_json(response)
        status = response.status_code
        if status == 403 and xp.is_duplicate(body):
            raise DuplicateContent(
                f"X API refused {what} for probe {probe.probe_id} as duplicate content "
                f"({xp.problem_text(body)}): it may already be posted; reconcile"
            )
        if status in (401, 403):
            raise AuthError(self._http.auth_message(response, what))
        if response.is_error:
            raise self._http.rejected(response, f"{what} for probe {probe.probe_id}")
        post_id = platform_id(xp.as_object(body.get("data")).get("id"))
        if post_id is None:
            raise OutcomeUnknown(
                f"X API answered {status_text(response)} to {what} for probe "
                f"{probe.probe_id} without a usable post id; reconcile"
            )
        # The create answer has no created_at; the id's snowflake time is the platform's own
        # clock, to the millisecond (our clock is only a fallback for non-snowflake ids).
        when = xp.snowflake_time(post_id) or self.clock.now()
        return Sent(probe.probe_id, post_id, when, await self._fresh_followers())

    async def find_sent(self, probe: PlannedProbe, since: datetime) -> Sent | None:
        """The probe among the account's own posts since `since` (our clock), oldest match
        first. X filters by its own clock: `since` is moved onto it (its Date headers)."""
        me = await self.me()
        start = self._http.platform_time(utc(since))
        params = {
            # X wants whole seconds; rounding down only widens the search.
            "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tweet.fields": "created_at",
            "max_results": "100",
        }
        wanted = xp.comparable(probe.text)
        found: list[tuple[datetime, str]] = []
        async for page in self._pages(USER_POSTS, f"/2/users/{me}/tweets", params):
            for post in xp.page_items(page):
                if xp.comparable(str(post.get("text", ""))) == wanted:
                    pid = str(post["id"])
                    when = xp.snowflake_time(pid) or xp.created_at(post) or self.clock.now()
                    found.append((when, pid))
        if not found:
            return None
        when, post_id = min(found)
        return Sent(probe.probe_id, post_id, when)

    async def inbox(self, since: Cursor | None) -> tuple[list[Reply], Cursor]:
        """New mentions and DMs since the cursor, oldest first, and the cursor after them."""
        me = await self.me()
        cursor: Cursor = dict(since or {})
        mentions, newest_mention = await self._mentions(me, cursor.get("mentions_since_id"))
        dms, newest_dm = await self._dms(me, cursor.get("dm_since_id"))
        if newest_mention is not None:
            cursor["mentions_since_id"] = newest_mention
        if newest_dm is not None:
            cursor["dm_since_id"] = newest_dm
        return oldest_first(mentions + dms), cursor

    # -- the two inbox reads ---------------------------------------------------------------

    async def _mentions(self, me: str, since_id: str | None) -> tuple[list[Reply], str | None]:
        params = {
            "max_results": "100",
            "tweet.fields": MENTION_FIELDS,
            "expansions": "author_id",
        }
        if since_id:
            params["since_id"] = since_id
        replies: list[Reply] = []
        newest = since_id
        async for page in self._pages(MENTIONS, f"/2/users/{me}/mentions", params):
            replies += xp.mention_replies(page, me)
            newest = newest_id((p["id"] for p in xp.page_items(page)), newest)
        return replies, newest

    async def _dms(self, me: str, since_id: str | None) -> tuple[list[Reply], str | None]:
        # dm_events has no since_id: pages come newest first, so read until the last event
        # seen before (X keeps 30 days of events; the first poll reads them all).
        params = {
            "dm_event.fields": DM_FIELDS,
            "event_types": "MessageCreate",
            "expansions": "sender_id",
            "max_results": "100",
        }
        fresh: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        newest = since_id
        async with aclosing(self._pages(DM_EVENTS, "/2/dm_events", params)) as pages:
            async for page in pages:
                names.update(xp.users_by_id(page))
                events = xp.page_items(page)
                new = [e for e in events if since_id is None or newer(str(e["id"]), since_id)]
                fresh += new
                newest = newest_id((str(e["id"]) for e in new), newest)
                if len(new) < len(events):
                    break
        return xp.dm_replies(fresh, names, me), newest

    # -- plumbing --------------------------------------------------------------------------

    async def _get(
        self, endpoint: str, path: str, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = await self._http.get(endpoint, path, params)
        if response.is_error:
            raise self._http.rejected(response, f"GET {path}")
        return self._http.body_object(response, f"GET {path}")

    async def _pages(
        self, endpoint: str, path: str, params: dict[str, str]
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Pages of a paginated read, following `meta.next_token` until there is none."""
        token: str | None = None
        for _ in range(MAX_PAGES):
            query = dict(params)
            if token is not None:
                query["pagination_token"] = token
            body = await self._get(endpoint, path, query)
            yield body
            following = xp.next_token(body)
            if following is None or following == token:
                return
            token = following
        raise Unreadable(f"X API GET {path} kept paginating past {MAX_PAGES} pages")
