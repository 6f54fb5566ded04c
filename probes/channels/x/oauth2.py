"""OAuth 2.0 user context for X: Authorization Code with PKCE, and refresh before expiry.

As X documents (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
and .../oauth-2-0/user-access-token): the person authorises the app at
`https://x.com/i/oauth2/authorize` (response_type=code, S256 code challenge, state); X
redirects to the registered callback with `code`, which must be exchanged at
`POST https://api.x.com/2/oauth2/token` within 30 seconds; the access token lives two hours;
with the scope `offline.access` a refresh token comes with it, and each refresh
(grant_type=refresh_token) returns a new pair and spends the old refresh token. A
confidential client authenticates at the token endpoint with HTTP Basic (client id and
secret); a public one sends `client_id` in the form.

`XTokens` keeps the pair in the token store (probes.channels.tokens) and renews it
`REFRESH_AHEAD` before expiry: the new pair is saved durably *before* it is used, so a
process killed at any instant leaves a usable refresh token on disk, except in the
milliseconds between X answering a refresh and the save, when the only way back is
`replybench login x` (docs/going-live.md says so).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from probes.channels.base import AuthError, Transient
from probes.channels.tokens import TokenStore
from study.clock import Clock
from study.timeutil import iso, parse_iso

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"
# What the runner does: post and delete (tweet.write), read mentions and its own posts
# (tweet.read, users.read), read DM events (dm.read), and refresh (offline.access).
SCOPES = ("tweet.read", "tweet.write", "users.read", "dm.read", "offline.access")
REFRESH_AHEAD = timedelta(minutes=10)
STORE_KIND = "x-oauth2"

# The drill's injection points (tests/e2e/test_crash_drill.py): die as kill -9 would.
CrashHook = Callable[[str], None]


@dataclass(frozen=True)
class TokenPair:
    """An access token, the refresh token that renews it, and when the access token expires."""

    access: str
    refresh: str
    expires_at: datetime
    scope: str = ""

    def __repr__(self) -> str:
        return f"TokenPair(expires_at={iso(self.expires_at)})"

    def to_json(self) -> dict[str, str]:
        return {
            "access_token": self.access,
            "refresh_token": self.refresh,
            "expires_at": iso(self.expires_at),
            "scope": self.scope,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenPair | None:
        try:
            return cls(
                str(data["access_token"]),
                str(data["refresh_token"]),
                parse_iso(str(data["expires_at"])),
                str(data.get("scope", "")),
            )
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class Client:
    """The X app: its OAuth 2.0 client id, and its secret for a confidential client."""

    client_id: str
    client_secret: str = ""

    def __repr__(self) -> str:
        return f"Client(client_id={self.client_id!r})"

    def token_request(self, api_base: str, form: dict[str, str]) -> httpx.Request:
        """A request to the token endpoint (Basic auth for a confidential client)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.client_secret:
            pair = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form = {**form, "client_id": self.client_id}
        return httpx.Request(
            "POST", f"{api_base.rstrip('/')}{TOKEN_PATH}", headers=headers, content=urlencode(form)
        )


def pkce() -> tuple[str, str]:
    """A fresh code verifier and its S256 challenge (RFC 7636 4.1, 4.2)."""
    verifier = secrets.token_urlsafe(64)[:128]
    return verifier, str(create_s256_code_challenge(verifier))


def authorization_url(
    authorize: str, client: Client, *, redirect_uri: str, state: str, challenge: str
) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{authorize}{'&' if '?' in authorize else '?'}{urlencode(query)}"


def code_request(
    api_base: str, client: Client, *, code: str, verifier: str, redirect_uri: str
) -> httpx.Request:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    return client.token_request(api_base, form)


def refresh_request(api_base: str, client: Client, refresh: str) -> httpx.Request:
    return client.token_request(api_base, {"grant_type": "refresh_token", "refresh_token": refresh})


def token_pair(response: httpx.Response, now: datetime, what: str) -> TokenPair:
    """The pair in a token endpoint's answer; AuthError (naming X's error code, never a
    token) when it refused, Transient when it could not answer."""
    if response.status_code == 429 or response.status_code >= 500:
        raise Transient(f"X API POST {TOKEN_PATH} ({what}): {response.status_code}; try again")
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    access, refresh = body.get("access_token"), body.get("refresh_token")
    expires_in = body.get("expires_in")
    if response.is_success and isinstance(access, str) and isinstance(refresh, str):
        seconds = float(expires_in) if isinstance(expires_in, int | float) else 7200.0
        return TokenPair(
            access, refresh, now + timedelta(seconds=seconds), str(body.get("scope", ""))
        )
    error = body.get("error") if isinstance(body.get("error"), str) else ""
    if response.is_success:
        error = "no refresh token in the answer: was the scope offline.access granted?"
    raise AuthError(f"X refused the {what} ({response.status_code} {error})".rstrip())


class XTokens:
    """The probe account's OAuth 2.0 pair: loaded from the store, renewed before expiry,
    saved before use. An `httpx.Auth` for the channel's client."""

    def __init__(
        self,
        store: TokenStore,
        account: str,
        client: Client,
        *,
        api_base: str,
        clock: Clock,
        crash: CrashHook | None = None,
    ) -> None:
        self.store, self.account, self.client = store, account, client
        self.api_base = api_base
        self.clock = clock
        self.crash = crash or (lambda point: None)
        self._lock = asyncio.Lock()
        self._pair: TokenPair | None = None

    def pair(self) -> TokenPair:
        """The stored pair; AuthError saying how to get one when there is none."""
        if self._pair is None:
            stored = self.store.load(STORE_KIND, self.account)
            self._pair = TokenPair.from_json(stored) if stored is not None else None
        if self._pair is None:
            raise AuthError(
                f"no X OAuth 2.0 token for @{self.account} in the token store; run "
                "`replybench login x STUDY` once (it opens X's authorisation page)"
            )
        return self._pair

    def secrets(self) -> tuple[str, ...]:
        return () if self._pair is None else (self._pair.access, self._pair.refresh)

    def save(self, pair: TokenPair) -> None:
        self.store.save(STORE_KIND, self.account, pair.to_json())
        self._pair = pair

    def due(self, pair: TokenPair) -> bool:
        return pair.expires_at - REFRESH_AHEAD <= self.clock.now()


class XTokensAuth(httpx.Auth):
    """Bearer the current access token; refresh first when it is due, and once more when X
    answers 401 (a refused request was not applied, so even a POST may be sent again)."""

    def __init__(self, tokens: XTokens) -> None:
        self.tokens = tokens

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        tokens = self.tokens
        async with tokens._lock:
            pair = tokens.pair()
            if tokens.due(pair):
                tokens.crash("refreshing")  # nothing spent yet: the stored pair still works
                refreshed = yield refresh_request(tokens.api_base, tokens.client, pair.refresh)
                pair = await self._renewed(refreshed)
        request.headers["Authorization"] = f"Bearer {pair.access}"
        response = yield request
        if response.status_code != 401:
            return
        async with tokens._lock:
            if tokens.pair().access == pair.access:  # nobody renewed it meanwhile
                refreshed = yield refresh_request(tokens.api_base, tokens.client, pair.refresh)
                pair = await self._renewed(refreshed)
            else:
                pair = tokens.pair()
        request.headers["Authorization"] = f"Bearer {pair.access}"
        yield request

    async def _renewed(self, response: httpx.Response) -> TokenPair:
        tokens = self.tokens
        await response.aread()
        tokens.crash("answered")  # the old refresh token is spent; the new pair not yet saved
        try:
            pair = token_pair(response, tokens.clock.now(), "token refresh")
        except AuthError as e:
            raise AuthError(
                f"{e}: the stored refresh token of @{tokens.account} no longer works (spent by "
                "a refresh whose answer was lost, or revoked); run `replybench login x STUDY` "
                "again"
            ) from None
        tokens.save(pair)  # durably, before the new access token is used
        tokens.crash("saved")
        return pair
