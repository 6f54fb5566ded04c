"""The Bluesky (AT Protocol) channel: post a probe, reconcile an unknown outcome, read the inbox.

A probe is a post record whose mention facet names the brand's DID (resolved from its handle),
so that the brand is notified. One inbox poll reads the account's notifications (replies,
mentions) and its chat conversations, each newest first back to the last item seen, however
many probes are open. The session (login, refresh, retries) is probes.channels.bluesky.session's.
Endpoints as documented at https://docs.bsky.app/docs/api.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import aclosing
from datetime import datetime
from typing import Any, Unpack

import httpx

from probes.answers import platform_id
from probes.channels.base import (
    AuthError,
    Closer,
    Cursor,
    OutcomeUnknown,
    RateLimit,
    Rejected,
    Reply,
    Sent,
    Transient,
    Wiring,
)
from probes.channels.bluesky import parse as bp
from probes.channels.bluesky.inbox import Inbox
from probes.channels.bluesky.session import XrpcSession, paged
from probes.channels.common import Retries, make_client, oldest_first
from probes.channels.http import status_text
from probes.channels.registry import http_access
from probes.channels.tokens import TokenStore
from study.clock import Clock
from study.model import ChannelSettings, PlannedProbe
from study.timeutil import iso, parse_iso

# XRPC methods the channel calls; `rate_limits` is keyed "VERB method".
RESOLVE = "com.atproto.identity.resolveHandle"
PROFILE = "app.bsky.actor.getProfile"
CREATE_RECORD = "com.atproto.repo.createRecord"
DELETE_RECORD = "com.atproto.repo.deleteRecord"
LIST_RECORDS = "com.atproto.repo.listRecords"


class BlueskyChannel:
    """Bluesky for one probe account, logged in to its PDS with an app password.

    `languages` maps a probe's country to the ISO 639-1 code put in the post's `langs`
    (omitted for a country it does not name); `read_dms=False` leaves chat out of the inbox.
    """

    name = "bluesky"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account: str,
        password: str,
        clock: Clock,
        languages: Mapping[str, str] | None = None,
        read_dms: bool = True,
        store: TokenStore | None = None,
        **retries: Unpack[Retries],
    ) -> None:
        self.clock = clock
        self.languages = dict(languages or {})
        self.read_dms = read_dms
        service = str(client.base_url).rstrip("/")  # a stored session is good only here
        self.xrpc = XrpcSession(
            client,
            account=account,
            password=password,
            clock=clock,
            store=store,
            service=service,
            **retries,
        )
        self.account = self.xrpc.account
        self._dids: dict[str, str] = {}
        self._inbox = Inbox(self.xrpc)

    @property
    def rate_limits(self) -> dict[str, RateLimit]:
        """The last budget the PDS reported per endpoint, for the runner's progress display."""
        return self.xrpc.rate_limits

    async def login(self) -> bp.Session:
        """Log in (once); the session's DID is the probe account's repository."""
        return await self.xrpc.login()

    # -- the channel -----------------------------------------------------------------------

    async def resolve(self, handle: str, probe: PlannedProbe | None = None) -> str:
        """The DID of a handle (cached). Raises Rejected when it does not resolve."""
        name = handle.lstrip("@").lower()
        if name in self._dids:
            return self._dids[name]
        whose = f" (brand {probe.brand}, {probe.country}, probe {probe.probe_id})" if probe else ""
        fix = (
            "check the handle column of targets.csv: a Bluesky handle is a domain name such "
            "as kaito.bsky.social, without '@'"
        )
        if not bp.is_handle(name):
            raise Rejected(f"{handle!r}{whose} is not a Bluesky handle; {fix}")
        response = await self.xrpc.get(RESOLVE, {"handle": name})
        did = bp.response_json(response).get("did")
        if response.status_code == 400 or (response.is_success and not isinstance(did, str)):
            raise Rejected(
                f"the Bluesky handle @{name}{whose} does not resolve to an account"
                f"{self.xrpc.detail(response)}; {fix}"
            )
        if response.is_error or not isinstance(did, str):
            raise self.xrpc.rejected(response, f"GET /xrpc/{RESOLVE}")
        self._dids[name] = did
        return did

    async def send(self, probe: PlannedProbe) -> Sent:
        """Post the probe as a new post mentioning the brand. Never retried here."""
        me = await self.xrpc.login()
        handle = probe.handle.lstrip("@").lower()
        spans = bp.mention_spans(probe.text, handle)
        if not spans:
            raise Rejected(
                f"probe {probe.probe_id}: the text does not mention @{handle}, so the brand "
                "would never be notified; put {handle} in the script's text"
            )
        did = await self.resolve(probe.handle, probe)
        # createdAt is ours to set; kept to the millisecond so that it reads back the same.
        created = parse_iso(iso(self.clock.now()))
        record: dict[str, Any] = {
            "$type": bp.POST,
            "text": probe.text,
            "createdAt": iso(created),
            "facets": bp.mention_facets(spans, did),
        }
        if probe.country in self.languages:
            record["langs"] = [self.languages[probe.country]]
        body = {"repo": me.did, "collection": bp.POST, "record": record}
        response = await self.xrpc.post(CREATE_RECORD, body)
        what = f"POST /xrpc/{CREATE_RECORD} for probe {probe.probe_id}"
        if response.status_code == 403:
            raise AuthError(f"Bluesky refused {what}: {status_text(response)}")
        if response.is_error:
            raise self.xrpc.rejected(response, what)
        raw = bp.response_json(response).get("uri")
        uri = platform_id(raw) if isinstance(raw, str) else None  # an at:// uri, bounded
        if uri is None:
            raise OutcomeUnknown(
                f"Bluesky answered {status_text(response)} to {what} without a record uri; "
                "reconcile"
            )
        return Sent(probe.probe_id, uri, created)

    async def find_sent(self, probe: PlannedProbe, since: datetime) -> Sent | None:
        """The probe among the account's own posts created since `since`, oldest match first."""
        me = await self.xrpc.login()
        params = {"repo": me.did, "collection": bp.POST, "limit": "100"}
        wanted = bp.comparable(probe.text)
        found: list[tuple[datetime, str]] = []
        pages = paged(self.xrpc.get_json, LIST_RECORDS, params, "records")
        async with aclosing(pages) as records:
            async for page in records:
                older = False
                for record in bp.items(page, "records"):
                    value = bp.as_object(record.get("value"))
                    when = bp.timestamp(value.get("createdAt"))
                    if when is not None and when < since:
                        older = True  # newest first: the rest of the account is older still
                        continue
                    text = value.get("text")
                    if isinstance(text, str) and bp.comparable(text) == wanted:
                        found.append((when or self.clock.now(), str(record.get("uri"))))
                if older:
                    break
        if not found:
            return None
        when, uri = min(found)
        return Sent(probe.probe_id, uri, when)

    async def inbox(self, since: Cursor | None) -> tuple[list[Reply], Cursor]:
        """New replies, mentions and DMs since the cursor, oldest first, and the cursor after
        them. The cursor keeps the newest notification seen (`seen_indexed_at`, `seen_uris`)
        and the newest chat revision seen (`dm_rev`)."""
        me = await self.xrpc.login()
        cursor: Cursor = dict(since or {})
        replies = await self._inbox.notifications(me.did, cursor)
        if self.read_dms:
            replies += await self._inbox.dms(me.did, cursor)
        return oldest_first(replies), cursor

    async def lookup_account(self, handle: str) -> tuple[dict[str, Any] | None, str]:
        """The profile of the account `handle` names (resolveHandle, then getProfile of its
        DID), or None and Bluesky's reason: e.g. "Unable to resolve handle" (no such
        account) or "AccountTakedown" (suspended)."""
        name = handle.lstrip("@").lower()
        if not bp.is_handle(name):
            raise Rejected(f"{handle!r} is not a Bluesky handle (a domain name)")
        found = await self.xrpc.get(RESOLVE, {"handle": name})
        did = bp.response_json(found).get("did")
        if found.status_code == 400 or (found.is_success and not isinstance(did, str)):
            return None, self.xrpc.describe(found) or "Unable to resolve handle"
        if found.is_error or not isinstance(did, str):
            raise self.xrpc.rejected(found, f"GET /xrpc/{RESOLVE}")
        profile = await self.xrpc.get(PROFILE, {"actor": did})
        if profile.status_code == 400:
            return None, self.xrpc.describe(profile) or "Profile not found"
        if profile.is_error:
            raise self.xrpc.rejected(profile, f"GET /xrpc/{PROFILE}")
        return bp.response_json(profile), ""

    async def delete(self, uri: str) -> bool:
        """Delete one of the probe account's posts by its at:// uri: True when the PDS
        deleted it now, False when it was already gone. A repeat does no harm, so a failure
        on the way is `Transient`: the caller may simply try again."""
        me = await self.xrpc.login()
        repo, _, rest = uri.removeprefix("at://").partition("/")
        collection, _, rkey = rest.partition("/")
        if not uri.startswith("at://") or repo != me.did or collection != bp.POST or not rkey:
            raise Rejected(f"{uri!r} is not a post of @{self.account}; it cannot be deleted")
        what = f"POST /xrpc/{DELETE_RECORD}"
        body = {"repo": me.did, "collection": collection, "rkey": rkey}
        try:
            response = await self.xrpc.post(DELETE_RECORD, body)
        except OutcomeUnknown as e:
            raise Transient(str(e)) from e
        if response.status_code == 403:
            raise AuthError(f"Bluesky refused {what}: {status_text(response)}")
        if response.is_error:
            raise self.xrpc.rejected(response, what)
        return "commit" in bp.response_json(response)  # the PDS commits nothing when it is gone

    async def check_dms(self) -> None:
        """Raise AuthError unless the session may read the account's direct messages."""
        await self._inbox.check_dms()


# -- the registry's two entry points -------------------------------------------------------


def build(
    settings: ChannelSettings, wiring: Wiring, *, languages: Mapping[str, str] | None = None
) -> tuple[BlueskyChannel, Closer]:
    """The channel for `[channels.bluesky]` and how to close it (docs/channels.md).

    `--api-base` overrides the settings' PDS; without `--live` it must be on loopback (the
    simulator), where an unset password variable means the simulator's password.
    `languages` (country -> ISO 639-1) fills each post's `langs`; the session is kept in
    `wiring.store` across runs.
    """
    base, password = http_access(settings, wiring)
    client = make_client(base)
    account, clock = settings.account, wiring.clock
    channel = BlueskyChannel(
        client,
        account=account,
        password=password,
        clock=clock,
        languages=languages,
        store=wiring.store,
    )
    return channel, client.aclose


async def preflight(channel: BlueskyChannel) -> None:
    """Log in (and, if the channel reads DMs, check that it may) before anything is written.
    Raises AuthError when the credentials are refused."""
    await channel.login()
    if channel.read_dms:
        await channel.check_dms()
