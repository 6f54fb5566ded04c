"""The X face of the simulator: the part of X API v2 a probe runner uses, with real behaviour.

`XPlatform.handle` takes an `httpx.Request` and returns the `httpx.Response` X would give, so
tests use it as `httpx.MockTransport(platform.handle)` and the server wraps it in HTTP. The
authenticated user is the study's probe account; every target handle is a user whose brand
bot answers the probe account's posts as `simulator.toml` says (see `probes.sim.bots`).
Before each request, every bot action due by the clock's now is applied, oldest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Unpack

import httpx

from probes.sim.face import Face, FaceOptions, Routes, bearer_ok, limited
from probes.sim.ledger import Ledger
from probes.sim.texts import STRANGER_HANDLES
from probes.sim.x import dms, posts
from probes.sim.x import views as xj
from probes.sim.x.auth import CODE_LIFETIME, XAuth
from probes.sim.x.brands import XBrands
from probes.sim.x.ratelimits import RateLimiter
from probes.sim.x.world import User, World
from study.clock import Clock
from study.model import Study

# (request, path arguments, now) -> response
Endpoint = Callable[[httpx.Request, dict[str, str], datetime], httpx.Response]


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
        self.limits = RateLimiter(rate_limits, lenient=self.lenient)
        self.world = World(ledger=self.ledger)
        self.me = self.world.user(study.channel(self.CHANNEL).account, role="probe")
        w, me = self.world, self.me
        self.brands = XBrands(study, self.settings, self.probe_index, w, me.username)
        for handle in STRANGER_HANDLES:
            w.user(handle)
        self.routes = Routes[Endpoint](
            {
                "GET /2/users/me": lambda r, a, now: self._user(r, me),
                "GET /2/users/by/username/:username": lambda r, a, now: self._user_named(r, a),
                "POST /2/tweets": lambda r, a, now: self._create_post(r, now),
                "GET /2/tweets/:id": lambda r, a, now: posts.get_post(w, r, a["id"]),
                "DELETE /2/tweets/:id": lambda r, a, now: posts.delete_post(w, me, a["id"], now),
                "GET /2/users/:id/mentions": lambda r, a, now: posts.mentions(w, r, a["id"]),
                "GET /2/users/:id/tweets": lambda r, a, now: posts.user_posts(w, r, a["id"]),
                "GET /2/dm_events": lambda r, a, now: dms.dm_events(w, me, r),
                "GET /2/dm_conversations/with/:participant_id/dm_events": (
                    lambda r, a, now: dms.dm_events(w, me, r, a["participant_id"])
                ),
                "POST /2/dm_conversations/with/:participant_id/messages": (
                    lambda r, a, now: dms.send_dm(w, me, r, a["participant_id"], now)
                ),
            }
        )

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
        return limited(
            self.limits, endpoint, now, lambda: fn(request, args, now), xj.too_many_requests
        )

    def _refusal(self, request: httpx.Request, status: int, now: datetime) -> httpx.Response:
        if status == 429:
            response = xj.too_many_requests()
            endpoint = self.routes.key(request)
            if endpoint is not None:
                response.headers.update(self.limits.headers(endpoint, now))
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
        xj.names(request.url.params, "user.fields", xj.USER_FIELDS)
        return xj.respond(200, {"data": xj.render_user(user)})

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

    def _create_post(self, request: httpx.Request, now: datetime) -> httpx.Response:
        response, post = posts.create_post(
            self.world, self.me, request, now, refuse_duplicates=not self.lenient
        )
        if self.bots_enabled:
            self.brands.probe_posted(post)
        return response
