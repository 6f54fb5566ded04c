"""A logged-in XRPC session with a Bluesky PDS: login, refresh, and calls that survive expiry.

The probe account logs in with an app password (com.atproto.server.createSession) and keeps
the session's DID and its access and refresh JWTs. When a call says the session is no longer
good (400 ExpiredToken/InvalidToken from the PDS, 401 from the AppView), the session is
refreshed (com.atproto.server.refreshSession; a new login if the refresh is refused) and the
call made once more: a refused session proves the call was not applied, so even a POST may
be repeated. A session whose access JWT is about to expire (its `exp` against the injected
clock, which follows the simulator's in sim runs) is refreshed before the call, as the atproto
SDK does. A fresh session refused as *expired* means the PDS's clock ran past the token's
lifetime during the call (a simulator at high speed on a busy machine: two hours of its time
are milliseconds): it is renewed again, a few times, since the credentials are fine.
Retries, backoff and rate limits are probes.channels.http's. Neither the password nor a JWT ever
reaches a message.

With a token store (probes.channels.tokens) the session outlives the process: a restarted
runner takes the stored JWTs and logs in (createSession) only when no usable refresh JWT is
left, since bsky.social allows 30 logins per 5 minutes and 300 per day per account
(https://docs.bsky.app/docs/advanced-guides/rate-limits): a runner that logged in on every
start or failure would lock itself out. Refresh JWTs are single-use (rotated on refresh), so
each new session is saved durably *before* it is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from datetime import timedelta
from typing import Any, Unpack

import httpx

from probes.answers import BodyTooLarge
from probes.channels.base import AuthError, RateLimit, Rejected, Transient, Unreadable
from probes.channels.bluesky import parse as bp
from probes.channels.common import Api, Retries
from probes.channels.http import Requester, status_text
from probes.channels.ratelimits import RateLimitHeaders
from probes.channels.tokens import TokenStore
from study.clock import Clock
from study.redact import scrub

BSKY_RATE_LIMIT = RateLimitHeaders("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"  # where the PDS forwards chat.bsky.* calls
LOGIN = "com.atproto.server.createSession"
REFRESH = "com.atproto.server.refreshSession"
# Refresh this long before the access JWT's `exp` (bsky.social's live two hours).
REFRESH_AHEAD = timedelta(minutes=5)
# Renewals of a session refused as expired even when fresh, before giving up.
EXPIRED_RENEWALS = 4
MAX_PAGES = 1000  # a guard against a service that never stops handing out cursors
STORE_KIND = "bluesky-session"
# What a PDS answers a chat call whose app password lacks the DM privilege ("Bad token scope"
# until mid-2025), as bluesky-social/atproto's app-passwords.test.ts expects.
NO_DM_PRIVILEGE = ("Bad token method", "Bad token scope")


class NoDmAccess(AuthError):
    """The app password may not use direct messages (a new one with the privilege will)."""


class _SessionAuth(httpx.Auth):
    """Puts the session's JWT on each request (the refresh JWT for refreshSession, none for
    createSession, the access JWT otherwise) and has the PDS forward chat calls to
    Bluesky's chat service."""

    def __init__(self, xrpc: XrpcSession) -> None:
        self.xrpc = xrpc

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        method = request.url.path.rsplit("/", 1)[-1]
        session = self.xrpc.session
        if session is not None and method != LOGIN:
            token = session.refresh if method == REFRESH else session.access
            request.headers["Authorization"] = f"Bearer {token}"
        if method.startswith("chat.bsky."):
            request.headers["atproto-proxy"] = CHAT_PROXY
        yield request


class XrpcSession:
    """XRPC calls to one PDS as one account. Takes over the client's `auth`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account: str,
        password: str,
        clock: Clock,
        store: TokenStore | None = None,
        service: str = "",
        **retries: Unpack[Retries],
    ) -> None:
        self.account = account.lstrip("@").lower()
        self.session: bp.Session | None = None
        self.store, self.service = store, service
        self._password = password
        self._client = client
        self._clock = clock
        client.auth = _SessionAuth(self)
        api = Api("Bluesky", BSKY_RATE_LIMIT, self.describe)
        self.http = Requester(client, clock=clock, api=api, secrets=self._secrets, **retries)
        self._lock = asyncio.Lock()

    @property
    def rate_limits(self) -> dict[str, RateLimit]:
        return self.http.rate_limits

    async def login(self) -> bp.Session:
        """The current session, logging in first if there is none."""
        async with self._lock:
            if self.session is None:
                self.session = self._stored() or self._saved(await self._create())
            return self.session

    async def get(self, method: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GET /xrpc/`method`, retried as probes.channels.http retries GETs; 4xx are returned."""
        return await self._call("GET", method, params, None)

    async def post(self, method: str, body: Any) -> httpx.Response:
        """POST /xrpc/`method` once (Transient / OutcomeUnknown as probes.channels.http says)."""
        return await self._call("POST", method, None, body)

    async def get_json(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """A GET's JSON body; a refusal is `Rejected`."""
        response = await self.get(method, params)
        if response.is_error:
            raise self.rejected(response, f"GET /xrpc/{method}")
        try:
            return self.http.body_object(response, f"GET /xrpc/{method}")
        except Unreadable as e:
            raise Unreadable(self._scrub(str(e))) from None

    # -- messages --------------------------------------------------------------------------

    def rejected(self, response: httpx.Response, what: str) -> Rejected:
        return Rejected(f"Bluesky refused {what}: {status_text(response)}{self.detail(response)}")

    def describe(self, response: httpx.Response) -> str:
        return self._scrub(bp.describe(response))

    def detail(self, response: httpx.Response) -> str:
        text = self.describe(response)
        return f" ({text})" if text and text != response.reason_phrase else ""

    def _scrub(self, text: str) -> str:
        """Remove the password and the session's JWTs, should a message ever echo them."""
        return scrub(text, self._secrets())

    def _secrets(self) -> list[str]:
        secrets = [self._password]
        if self.session is not None:
            secrets += [self.session.access, self.session.refresh]
        return secrets

    # -- the session -----------------------------------------------------------------------

    async def _call(
        self, verb: str, method: str, params: Mapping[str, Any] | None, body: Any
    ) -> httpx.Response:
        session = await self.login()
        expires = bp.token_expiry(session.access)
        if expires is not None and expires - REFRESH_AHEAD <= self._clock.now():
            await self._renew(session.access)
        key, path = f"{verb} {method}", f"/xrpc/{method}"
        refused = "401 Unauthorized"
        renewed = 0
        while True:
            used = self.session.access if self.session is not None else None
            expired = False
            try:
                if verb == "POST":
                    response = await self.http.post(key, path, body)
                else:
                    response = await self.http.get(key, path, params)
            except AuthError:  # probes.channels.http raises it for a GET answered 401/403
                pass
            else:
                self._check_privilege(method, response)
                if not bp.session_refused(response):
                    return response
                refused = f"{status_text(response)}{self.detail(response)}"
                expired = bp.error_name(bp.response_json(response)) == "ExpiredToken"
            if renewed >= (EXPIRED_RENEWALS if expired else 1):
                break
            renewed += 1
            await self._renew(used)
        raise AuthError(
            f"Bluesky answered {refused} to {key} even with a fresh session of "
            f"@{self.account}; check that the app password is still valid"
        )

    async def _create(self) -> bp.Session:
        if not self._password.strip():
            raise AuthError(f"no Bluesky app password was given for @{self.account}")
        body = {"identifier": self.account, "password": self._password}
        response = await self._session_post(LOGIN, body)
        found = bp.session(bp.response_json(response)) if response.is_success else None
        if found is None:
            raise AuthError(
                f"Bluesky refused to log in @{self.account} ({status_text(response)}"
                f"{self.detail(response)}); check the account's handle and its app password "
                "(Bluesky: Settings > Privacy and security > App passwords)"
            )
        if self.account not in (found.handle.lower(), found.did):
            raise AuthError(
                f"the Bluesky app password logs in @{found.handle}, not the probe account "
                f"@{self.account} named in the study; use an app password of @{self.account}"
            )
        return found

    async def _renew(self, used: str | None) -> None:
        """Refresh the session the failed call used (a new login if the refresh is refused),
        unless a concurrent call already did."""
        async with self._lock:
            current = self.session
            if current is not None and current.access != used:
                return
            if current is not None:
                response = await self._session_post(REFRESH, None)
                renewed = bp.session(bp.response_json(response)) if response.is_success else None
                if renewed is not None and renewed.did == current.did:
                    self.session = self._saved(renewed)
                    return
            self.session = None
            self.session = self._saved(await self._create())

    # -- the stored session ----------------------------------------------------------------

    def _stored(self) -> bp.Session | None:
        """The session a previous run saved for this account and service, unless its refresh
        JWT has expired (then only a new login helps)."""
        data = self.store.load(STORE_KIND, self.account) if self.store is not None else None
        if data is None or data.get("service") != self.service:
            return None
        found = bp.session(data)
        expires = bp.token_expiry(found.refresh) if found is not None else None
        if found is None or (expires is not None and expires <= self._clock.now()):
            return None
        return found

    def _saved(self, session: bp.Session) -> bp.Session:
        """`session`, once it is on disk (durably: see probes.channels.tokens)."""
        if self.store is not None:
            self.store.save(
                STORE_KIND,
                self.account,
                {
                    "service": self.service,
                    "did": session.did,
                    "handle": session.handle,
                    "accessJwt": session.access,
                    "refreshJwt": session.refresh,
                },
            )
        return session

    def _check_privilege(self, method: str, response: httpx.Response) -> None:
        """A chat call refused because the app password may not use direct messages: no
        fresh session would help, so say at once what to do."""
        if not method.startswith("chat.bsky.") or response.status_code != 400:
            return
        body = bp.response_json(response)
        if bp.error_name(body) == "InvalidToken" and body.get("message") in NO_DM_PRIVILEGE:
            raise NoDmAccess(
                f"the app password of @{self.account} has no access to direct messages "
                f"(Bluesky answered {status_text(response)}{self.detail(response)} to "
                f"{method}); create an app password with 'Allow access to your direct "
                "messages' ticked (Settings > Privacy and security > App passwords)"
            )

    async def _session_post(self, method: str, body: Any) -> httpx.Response:
        """createSession/refreshSession, once. Doing either twice does no harm, so every
        failure short of an answer is Transient here (not OutcomeUnknown)."""
        key, path = f"POST {method}", f"/xrpc/{method}"
        try:
            response = await self.http.request("POST", path, endpoint=key, json=body)
        except (httpx.TransportError, BodyTooLarge) as exc:
            raise Transient(f"Bluesky POST {path}: {type(exc).__name__}; try again later") from exc
        limit = self.http.rate_limits.get(key)
        if response.status_code == 429 or response.status_code >= 500:
            raise Transient(
                f"Bluesky POST {path}: {status_text(response)}{self.detail(response)}",
                retry_at=limit.reset_at if response.status_code == 429 and limit else None,
            )
        return response


async def paged(
    read: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]],
    method: str,
    params: dict[str, Any],
    key: str,
) -> AsyncGenerator[dict[str, Any], None]:
    """Pages of a paginated XRPC read (`read` is `XrpcSession.get_json` or a wrapper of it),
    following `cursor` until a page has no `key` items or no new cursor."""
    token: str | None = None
    for _ in range(MAX_PAGES):
        query = dict(params)
        if token is not None:
            query["cursor"] = token
        body = await read(method, query)
        yield body
        following = bp.next_cursor(body)
        if following is None or following == token or not bp.items(body, key):
            return
        token = following
    raise Unreadable(f"Bluesky GET /xrpc/{method} kept paginating past {MAX_PAGES} pages")
