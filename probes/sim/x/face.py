"""The X face of the simulator: the part of X API v2 a probe runner uses, with real behaviour.

`XPlatform.handle` takes an `httpx.Request` and returns the `httpx.Response` X would give, so
tests use it as `httpx.MockTransport(platform.handle)` and the server wraps it in HTTP. The
authenticated user is one of the study's probe accounts (`[channels.x]`'s and each
persona's, told apart by their tokens); every target handle is a user whose brand bot
answers the probe account that asked as `simulator.toml` says (see `probes.sim.bots`).
Before each request, every bot action due by the clock's now is applied, oldest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Unpack

import httpx

from probes.channels.x.credentials import sim_access
from probes.sim.accounts import Accounts
from probes.sim.face import Face, FaceOptions, Routes, bearer_ok, limited
from probes.sim.ledger import Ledger
from probes.sim.texts import STRANGER_HANDLES
from probes.sim.x import dms, posts
from probes.sim.x import views as xj
from probes.sim.x.auth import CODE_LIFETIME, XAuth, token_of
from probes.sim.x.brands import XBrands
from probes.sim.x.ratelimits import RateLimiter
from probes.sim.x.world import User, World
from study.clock import Clock
from study.model import Study


@dataclass
class XAccount:
    """One probe account the face serves: its user, its request budgets (X counts per user)
    and the brand bots that answer it."""

    me: User
    limits: RateLimiter
    brands: XBrands


# (request, path arguments, now, the account asking) -> response
Endpoint = Callable[[httpx.Request, dict[str, str], datetime, XAccount], httpx.Response]


class XPlatform(Face[World]):
    """A stateful fake X for one study (see `Face`); `token`, when given, is the only bearer
    token accepted (else any non-empty one is); `rate_limits` overrides X's budgets; `auth`
    checks credentials as X does (probes.sim.x.auth; True: with the built-in app), as the
    face `for_study` builds (what `replybench sim` serves) does."""

    CHANNEL = "x"

    def __init__(
        self,
        study: Study,
        clock: Clock,
        *,
        token: str | None = None,
        rate_limits: Mapping[str, int] | None = None,
        auth: XAuth | bool = False,
        **options: Unpack[FaceOptions],
    ) -> None:
        super().__init__(study, clock, **options)
        self.token = token
        self.auth = XAuth() if auth is True else auth or None
        self.world = World(ledger=self.ledger)
        self._rate_limits = rate_limits
        # Every probe account of the study on X: `[channels.x]`'s, and each persona's, each
        # with its own credentials, mentions, DMs and request budgets (X counts per user).
        self.accounts = Accounts(
            study, self.CHANNEL, self._new_account, lambda handle: sim_access(handle)[0]
        )
        default = self.default = self.accounts.default
        self.me, self.brands = default.me, default.brands
        for handle in STRANGER_HANDLES:
            self.world.user(handle)
        w = self.world
        self.routes = Routes[Endpoint](
            {
                "GET /2/users/me": lambda r, a, now, acc: self._user(r, acc.me),
                "GET /2/users/by/username/:username": lambda r, a, n, acc: self._user_named(r, a),
                "POST /2/tweets": lambda r, a, now, acc: self._create_post(r, now, acc),
                "GET /2/tweets/:id": lambda r, a, now, acc: posts.get_post(w, r, a["id"]),
                "DELETE /2/tweets/:id": (
                    lambda r, a, now, acc: posts.delete_post(w, acc.me, a["id"], now)
                ),
                "GET /2/users/:id/mentions": lambda r, a, now, acc: posts.mentions(w, r, a["id"]),
                "GET /2/users/:id/tweets": lambda r, a, now, acc: posts.user_posts(w, r, a["id"]),
                "GET /2/dm_events": lambda r, a, now, acc: dms.dm_events(w, acc.me, r),
                "GET /2/dm_conversations/with/:participant_id/dm_events": (
                    lambda r, a, now, acc: dms.dm_events(w, acc.me, r, a["participant_id"])
                ),
                "POST /2/dm_conversations/with/:participant_id/messages": (
                    lambda r, a, now, acc: dms.send_dm(w, acc.me, r, a["participant_id"], now)
                ),
            }
        )

    def _new_account(self, username: str, followers: int) -> XAccount:
        me = self.world.user(username, role="probe", followers=followers)
        brands = XBrands(self.study, self.settings, self.probe_index, self.world, me.username)
        if self.auth is not None:
            self.auth.add_account(me.username)
        return XAccount(me, RateLimiter(self._rate_limits, lenient=self.lenient), brands)

    @property
    def limits(self) -> RateLimiter:
        """The request budgets of the default account (`[channels.x]`'s)."""
        return self.default.limits

    @limits.setter
    def limits(self, limiter: RateLimiter) -> None:
        self.default.limits = limiter

    def account_of(self, request: httpx.Request) -> XAccount:
        """Whose request this is: the account its token was issued to (the built-in app's
        own pair of each account, an OAuth 2.0 token the face's token endpoint issued after
        a persona's login), else the default account (its plain pair, an OAuth 2.0 token
        of the default login, any token of a lenient face)."""
        token = token_of(request)
        owner = self.auth.owner(token) if self.auth is not None else ""
        found = self.accounts.named(owner) if owner else None
        return found if found is not None else self.accounts.of(token)

    @classmethod
    def for_study(
        cls,
        study: Study,
        clock: Clock,
        *,
        ledger: Ledger | Path | None = None,
        lenient: bool = False,
    ) -> XPlatform:
        """The face `replybench sim` serves, checking credentials as X does (unless
        `lenient`, which turns X's rules off)."""
        face = super().for_study(study, clock, ledger=ledger, lenient=lenient)
        # X's 30 seconds for a code are the login program's real seconds: a simulator
        # running `speed` times faster than real time gives it 30 real seconds too, or no
        # login could keep up with a simulator at a thousandfold.
        speed = max(1.0, float(getattr(clock, "speed", 1.0)))
        face.auth = None if lenient else XAuth(code_lifetime=CODE_LIFETIME * speed)
        if face.auth is not None:
            for account in face.accounts:
                face.auth.add_account(account.me.username)
        return face

    def _answer(self, request: httpx.Request, now: datetime) -> httpx.Response:
        oauth2 = self._oauth2(request, now)
        if oauth2 is not None:
            return oauth2
        found = self.routes.find(request)
        if found is None:
            return xj.page_not_found()
        endpoint, fn, args = found
        if self.auth is not None:
            refused = self.auth.refusal(request, endpoint, now)
            if refused is not None:
                return refused
        elif not (bearer_ok(request, self.token) or self._signed_leniently(request)):
            return xj.unauthorized()
        account = self.account_of(request)
        return limited(
            account.limits,
            endpoint,
            now,
            lambda: fn(request, args, now, account),
            xj.too_many_requests,
        )

    def _refusal(self, request: httpx.Request, status: int, now: datetime) -> httpx.Response:
        if status == 429:
            response = xj.too_many_requests()
            endpoint = self.routes.key(request)
            if endpoint is not None:
                response.headers.update(self.account_of(request).limits.headers(endpoint, now))
                response.headers["x-rate-limit-remaining"] = "0"
            return response
        title = {500: "Internal Server Error", 503: "Service Unavailable"}[status]
        return xj.about_blank(status, title)

    def _reply_to(self, post_id: str | int, text: str) -> tuple[int, str, str]:
        post = self.world.posts[int(post_id)]
        brands = self.brands.handles_in(post.text)
        return (
            post.id,
            brands[0] if brands else STRANGER_HANDLES[0],
            f"@{post.author.username} {text}",
        )

    def probe_address(self) -> str:
        return self.me.username  # DM events name the probe account by username

    def user(self, handle: str) -> User:
        """The user with this handle (made on first sight, as a stranger)."""
        with self._lock:
            return self.world.user(handle)

    # -- credentials ----------------------------------------------------------------------------

    def _signed_leniently(self, request: httpx.Request) -> bool:
        """Without X's checks, any OAuth 1.0a header will do (unless a `token` is required)."""
        header = request.headers.get("authorization", "")
        return self.token is None and header.lower().startswith("oauth ")

    def _oauth2(self, request: httpx.Request, now: datetime) -> httpx.Response | None:
        """The consent page and the token endpoint, when the face checks credentials."""
        if self.auth is None:
            return None
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path == "/i/oauth2/authorize":
            return self.auth.authorize(request, now)
        if request.method == "POST" and path == "/2/oauth2/token":
            return self.auth.token(request, now)
        return None

    # -- users and posts ------------------------------------------------------------------------

    def _user(self, request: httpx.Request, user: User) -> httpx.Response:
        xj.check_params(request.url.params, posts.LOOKUP_PARAMS)
        fields = xj.names(request.url.params, "user.fields", xj.USER_FIELDS)
        return xj.respond(200, {"data": xj.render_user(user, fields)})

    def _user_named(self, request: httpx.Request, args: dict[str, str]) -> httpx.Response:
        name = args["username"]
        if not re.fullmatch(r"[A-Za-z0-9_]{1,15}", name):
            message = f"The `username` query parameter value [{name}] does not match "
            raise xj.invalid_request("username", name, message + "^[A-Za-z0-9_]{1,15}$")
        user = self.world.users.get(name.lower())
        if user is None:
            detail = f"Could not find user with username: [{name}]."
            return xj.not_found("user", "username", name, detail)
        return self._user(request, user)

    def _create_post(
        self, request: httpx.Request, now: datetime, account: XAccount
    ) -> httpx.Response:
        response, post = posts.create_post(
            self.world, account.me, request, now, refuse_duplicates=not self.lenient
        )
        if self.bots_enabled:
            account.brands.probe_posted(post)  # the brands answer the account that asked
        return response
