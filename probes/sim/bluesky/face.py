"""The Bluesky face of the simulator: the XRPC methods a probe runner uses, with real behaviour.

`BlueskyPlatform.handle` takes an `httpx.Request` for `/xrpc/<method>` and returns what
bsky.social would answer, so tests use it as `httpx.MockTransport(platform.handle)` and the
server routes `/xrpc/` to it (probes/sim/dispatch.py). Every probe account of the study
(`[channels.bluesky] account` and each persona's, probes.sim.accounts) logs in with its
handle and any non-empty app password (or exactly `password=`, or the app password the
simulator issues it: probes.channels.common.sim_credential); its sessions expire after
`access_lifetime` of virtual time, so clients must refresh them; each account has its own
request and login budgets, notifications and chats. Every target handle of the study is an
account whose brand bot answers the probe account that asked as `simulator.toml` says, with
the same decisions as on the X face. See docs/simulator.md, "Bluesky face".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Unpack

import httpx

from probes.channels.common import SIM_TOKEN, sim_credential
from probes.sim.accounts import Accounts
from probes.sim.bluesky import inbox, views
from probes.sim.bluesky import records as rec
from probes.sim.bluesky.auth import ACCESS_LIFETIME, LIMITS, REFRESH_LIFETIME, Limits, Sessions
from probes.sim.bluesky.bots import BlueskyBots
from probes.sim.bluesky.views import XrpcError, invalid, respond
from probes.sim.bluesky.world import (
    CHANNEL,
    POST,
    Account,
    BlueskyWorld,
    Post,
    cid_for,
    stranger_handle,
    tid_text,
)
from probes.sim.face import Face, FaceOptions, bearer_of
from probes.sim.texts import STRANGER_HANDLES
from study.clock import Clock
from study.errors import StudyError
from study.model import Study

# (request, now, the caller's DID or None) -> response
Handler = Callable[[httpx.Request, datetime, str | None], httpx.Response]


@dataclass
class BlueskyAccount:
    """One probe account the face serves: its account, its budgets (bsky.social counts per
    account, logins included) and the brand bots that answer it."""

    me: Account
    limits: Limits
    bots: BlueskyBots


class BlueskyPlatform(Face[BlueskyWorld]):
    """A stateful fake Bluesky (PDS, AppView and chat) for one study (see `Face`); a probe
    account logs in with `password` when given (or the one the simulator issues it), else
    any non-empty one."""

    CHANNEL = CHANNEL

    def __init__(
        self,
        study: Study,
        clock: Clock,
        *,
        password: str | None = None,
        rate_limits: Mapping[str, tuple[int, int]] | None = None,
        access_lifetime: timedelta = ACCESS_LIFETIME,
        refresh_lifetime: timedelta = REFRESH_LIFETIME,
        dm_access: bool = True,
        **options: Unpack[FaceOptions],
    ) -> None:
        try:
            study.channel(CHANNEL)
        except KeyError:
            raise StudyError(
                "the study has Bluesky targets but no [channels.bluesky] table in study.toml"
            ) from None
        super().__init__(study, clock, **options)
        self.password = password
        self.dm_access = dm_access
        self.logins = 0  # createSession calls answered with a session
        unlimited = {bucket: (10**9, s) for bucket, (_, s) in LIMITS.items()}
        self._limits = unlimited if self.lenient else rate_limits
        self.sessions = Sessions(access_lifetime, refresh_lifetime)
        self.world = BlueskyWorld(ledger=self.ledger)
        # Every probe account of the study on Bluesky: `[channels.bluesky]`'s (`account`),
        # and each persona's, each with its own sessions, budgets, notifications and chats.
        self.accounts = Accounts(
            study, CHANNEL, self._new_account, lambda handle: sim_credential(SIM_TOKEN, handle)
        )
        self.default = self.accounts.default
        self.me, self.bots = self.default.me, self.default.bots
        for name in STRANGER_HANDLES:
            self.world.account(stranger_handle(name))
        self._routes: dict[str, tuple[str, str, Handler]] = {
            "com.atproto.server.createSession": ("POST", "none", self._create_session),
            "com.atproto.server.refreshSession": ("POST", "refresh", self._refresh_session),
            "com.atproto.identity.resolveHandle": ("GET", "none", self._resolve_handle),
            "app.bsky.actor.getProfile": ("GET", "optional", self._get_profile),
            "com.atproto.repo.createRecord": ("POST", "access", self._create_record),
            "com.atproto.repo.deleteRecord": ("POST", "access", self._delete_record),
            "com.atproto.repo.listRecords": ("GET", "none", self._list_records),
            "app.bsky.notification.listNotifications": (
                "GET",
                "access",
                self._inbox(inbox.notifications),
            ),
            "app.bsky.feed.getPostThread": ("GET", "optional", self._post_thread),
            "chat.bsky.convo.listConvos": ("GET", "chat", self._inbox(inbox.list_convos)),
            "chat.bsky.convo.getMessages": ("GET", "chat", self._inbox(inbox.get_messages)),
        }

    def _new_account(self, handle: str, followers: int) -> BlueskyAccount:
        me = self.world.account(handle, role="probe")
        bots = BlueskyBots(self.study, self.settings, self.probe_index, self.world, me.handle)
        return BlueskyAccount(me, Limits(self._limits), bots)

    @property
    def limits(self) -> Limits:
        """The budgets of the default account (`[channels.bluesky]`'s)."""
        return self.default.limits

    def _inbox(
        self, read: Callable[[BlueskyWorld, httpx.Request, str | None], httpx.Response]
    ) -> Handler:
        """A route to one of the inbox's reads (probes.sim.bluesky.inbox) of this world."""
        return lambda request, now, did: read(self.world, request, did)

    def _by_did(self, did: str | None) -> BlueskyAccount | None:
        account = self.world.by_did.get(did or "")
        return self.accounts.named(account.handle) if account is not None else None

    def account_of(self, request: httpx.Request) -> BlueskyAccount:
        """Whose budgets a request spends: the account a login names, or the one its token
        was issued to; else the default account."""
        if self.method(request) == "com.atproto.server.createSession":
            try:
                identifier = str(rec.input_object(request).get("identifier", ""))
            except XrpcError:
                identifier = ""
            actor = self._actor(identifier)
            found = self.accounts.named(actor.handle) if actor is not None else None
        else:
            found = self._by_did(self.sessions.owner(bearer_of(request)))
        return found or self.default

    def _answer(self, request: httpx.Request, now: datetime) -> httpx.Response:
        method = self.method(request)
        route = self._routes.get(method or "")
        if method is None:
            return XrpcError(404, "NotFound", "Not Found").response()
        if route is None:
            return XrpcError(501).response()
        verb, auth, handler = route
        limits = self.account_of(request).limits
        for bucket in self._buckets(method):  # a login takes from both of its budgets
            allowed, headers = limits.take(bucket, now)
            if not allowed:
                break
        try:
            if not allowed:
                raise XrpcError(429)
            if request.method != verb:
                raise invalid(f"Incorrect HTTP method ({request.method}) expected {verb}")
            did = self.sessions.verify(request, now, auth)
            response = handler(request, now, did)
        except XrpcError as refusal:
            response = refusal.response()
        response.headers.update(headers)
        return response

    def _refusal(self, request: httpx.Request, status: int, now: datetime) -> httpx.Response:
        response = XrpcError(status).response()
        if status == 429:
            bucket = self._buckets(self.method(request) or "")[0]
            response.headers.update(self.account_of(request).limits.headers(bucket, now))
            response.headers["RateLimit-Remaining"] = "0"
        return response

    @staticmethod
    def method(request: httpx.Request) -> str | None:
        """The XRPC method of a request ('app.bsky.feed.getPostThread'), None if not XRPC."""
        path = request.url.path
        return path[len("/xrpc/") :].strip("/") if path.startswith("/xrpc/") else None

    @staticmethod
    def _buckets(method: str) -> tuple[str, ...]:
        if method == "com.atproto.server.createSession":
            return ("session", "session-day")
        return ("global",)

    # -- scripted events, for tests --------------------------------------------------------

    def _reply_to(self, post_id: str | int, text: str) -> tuple[int, str, str]:
        """A reply to the post at URI `post_id` (it notifies the post's author: no @mention)."""
        post = self._post(str(post_id))
        brands = [d for d in sorted(post.mentions) if d in self.bots.targets]
        who = self.world.by_did[brands[0]].handle if brands else STRANGER_HANDLES[0]
        return post.number, who, text

    def probe_address(self) -> str:
        return self.me.handle  # a chat message goes to the probe account's handle

    def account(self, handle: str) -> Account:
        """The account with this handle (made on first sight, as a stranger)."""
        with self._lock:
            return self.world.account(handle)

    def expire_sessions(self) -> None:
        """End every access token now: the next call gets 400 ExpiredToken."""
        with self._lock:
            self.sessions.expire(self.clock.now())

    # -- sessions and identities -----------------------------------------------------------

    def _create_session(
        self, request: httpx.Request, now: datetime, _: str | None
    ) -> httpx.Response:
        body = rec.input_object(request, "identifier", "password")
        identifier, password = str(body["identifier"]), body["password"]
        actor = self._actor(identifier)
        account = self.accounts.named(actor.handle) if actor is not None else None
        issued = sim_credential(SIM_TOKEN, account.me.handle) if account is not None else None
        good = isinstance(password, str) and password and self.password in (None, password)
        if account is None or not (good or password == issued):
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
        self.logins += 1
        return respond(200, self._session(request, now, account.me))

    def _refresh_session(
        self, request: httpx.Request, now: datetime, did: str | None
    ) -> httpx.Response:
        account = self._by_did(did) or self.default
        return respond(200, self._session(request, now, account.me))

    def _session(self, request: httpx.Request, now: datetime, me: Account) -> dict[str, Any]:
        access, refresh = self.sessions.issue(me.did, now, privileged=self.dm_access)
        origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
        return views.session_view(origin, me, access, refresh)

    def _resolve_handle(
        self, request: httpx.Request, now: datetime, _: str | None
    ) -> httpx.Response:
        handle = rec.required(request.url.params, "handle").lower()
        if not rec.is_handle(handle):
            raise invalid("Error: handle must be a valid handle")
        account = self.world.accounts.get(handle)
        if account is None:
            raise invalid("Unable to resolve handle")
        return respond(200, {"did": account.did})

    def _get_profile(self, request: httpx.Request, now: datetime, _: str | None) -> httpx.Response:
        account = self._actor(rec.required(request.url.params, "actor"))
        if account is None:
            raise invalid("Profile not found")
        posts = sum(1 for p in self.world.posts.values() if p.author is account and not p.deleted)
        return respond(200, views.profile_detailed(account, posts))

    def _actor(self, actor: str) -> Account | None:
        actor = actor.lstrip("@")
        return self.world.by_did.get(actor) or self.world.accounts.get(actor.lower())

    # -- records ---------------------------------------------------------------------------

    def _repo(self, body: Mapping[str, Any], did: str | None) -> Account:
        account = self._actor(str(body["repo"]))
        if account is None:
            raise invalid(f"Could not find repo: {body['repo']}")
        if account.did != did:
            raise XrpcError(401)
        if body["collection"] != POST:
            raise invalid(f"the simulator keeps only {POST} records, not {body['collection']}")
        return account

    def _create_record(
        self, request: httpx.Request, now: datetime, did: str | None
    ) -> httpx.Response:
        body = rec.input_object(request, "repo", "collection", "record")
        account = self._repo(body, did)
        record = body["record"]
        if not isinstance(record, dict) or record.get("$type") != POST:
            got = record.get("$type") if isinstance(record, dict) else record
            raise invalid(f"Invalid $type: expected {POST}, got {got}")
        rec.check_post(record)
        post = self.world.post(account, dict(record), now, {"role": account.role})
        asker = self._by_did(account.did)
        if self.bots_enabled and asker is not None:
            asker.bots.probe_posted(post)  # the brands answer the account that asked
        body = {"uri": post.uri, "cid": post.cid, **self._commit(now), "validationStatus": "valid"}
        return respond(200, body)

    def _delete_record(
        self, request: httpx.Request, now: datetime, did: str | None
    ) -> httpx.Response:
        body = rec.input_object(request, "repo", "collection", "rkey")
        account = self._repo(body, did)
        post = self.world.by_uri(f"at://{account.did}/{POST}/{body['rkey']}")
        if post is None or post.deleted:
            return respond(200, {})
        self.world.delete(post, now)
        return respond(200, self._commit(now))

    def _commit(self, now: datetime) -> dict[str, Any]:
        rev = tid_text(self.world.tids.make(now))
        return {"commit": {"cid": cid_for(rev), "rev": rev}}

    def _list_records(self, request: httpx.Request, now: datetime, _: str | None) -> httpx.Response:
        params = request.url.params
        repo, collection = rec.required(params, "repo"), rec.required(params, "collection")
        account = self._actor(repo)
        if account is None:
            raise invalid(f"Could not find repo: {repo}")
        size, cursor = rec.limit(params), params.get("cursor")
        reverse = params.get("reverse") == "true"
        mine = [
            p
            for p in self.world.posts.values()
            if p.author is account and not p.deleted and collection == POST
        ]
        mine = mine if reverse else mine[::-1]
        if cursor:
            mine = [p for p in mine if (p.rkey > cursor if reverse else p.rkey < cursor)]
        page = mine[:size]
        body: dict[str, Any] = {
            "records": [{"uri": p.uri, "cid": p.cid, "value": p.record} for p in page]
        }
        if page:
            body["cursor"] = page[-1].rkey
        return respond(200, body)

    def _post(self, uri: str) -> Post:
        post = self.world.by_uri(uri)
        if post is None or post.deleted:
            raise XrpcError(400, "NotFound", f"Post not found: {uri}")
        return post

    def _post_thread(self, request: httpx.Request, now: datetime, _: str | None) -> httpx.Response:
        params = request.url.params
        post = self._post(rec.required(params, "uri"))
        depth = rec.limit(params.merge({"limit": params.get("depth", "6")}), high=1000)
        parents = rec.limit(params.merge({"limit": params.get("parentHeight", "80")}), high=1000)
        children: dict[int, list[Post]] = {}
        for p in self.world.posts.values():
            if p.parent is not None and not p.deleted:
                children.setdefault(p.parent.number, []).append(p)
        return respond(
            200, {"thread": views.thread_view(post, children, depth=depth, parents=parents)}
        )
