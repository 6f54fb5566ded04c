"""Who may call the simulator's X face, checked as X checks it.

- OAuth 1.0a user context: the HMAC-SHA1 signature is recomputed from the request and the
  secrets the simulator issued (RFC 5849 3.4; X's "Creating a signature",
  https://docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature); a wrong
  signature, an unknown consumer key or token, or a nonce used twice is a 401. The timestamp
  is not held against the clock: the simulator's clock runs hundreds of times faster than
  the runner's requests travel.
- OAuth 2.0 user context: access tokens issued at `POST /2/oauth2/token` live two hours of
  simulated time, refresh tokens are single-use (a spent one is `invalid_request`), and
  authorisation codes must be exchanged within 30 s with the PKCE verifier of their
  challenge (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code).
  `GET /i/oauth2/authorize` stands for x.com's consent page: it approves at once and
  redirects to the loopback `redirect_uri` with the code.
- App-only bearer tokens: refused with X's 403 "Unsupported Authentication" on every
  endpoint that needs a user (posting, deleting, users/me, DMs).

The simulator accepts the credentials it issued: one built-in app (`SIM_APP`), whose keys
are public (docs/simulator.md) and which the runner uses on this machine when no
credential is exported, and the OAuth 2.0 tokens its own token endpoint hands out. The
app's plain access token stands for the study's `[channels.x]` account; every account the
face serves (each persona's) has its own pair (probes.channels.x.credentials.sim_access),
and `token_of` gives a request's token, by which the face knows whose it is, as X does.
"""

from __future__ import annotations

import base64
import hmac
import itertools
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from probes.channels.x.credentials import sim_access
from probes.channels.x.oauth1 import base_url, parse_authorization, request_params, signature
from probes.sim.face import bearer_of
from probes.sim.x import views as xj

ACCESS_LIFETIME = timedelta(hours=2)
CODE_LIFETIME = timedelta(seconds=30)
# Endpoints an app-only token may read (X's API reference lists "OAuth 2.0 App-only" for
# them); every other endpoint of the face needs a user.
APP_ONLY_OK = frozenset(
    {
        "GET /2/users/by/username/:username",
        "GET /2/tweets/:id",
        "GET /2/users/:id/tweets",
        "GET /2/users/:id/mentions",
    }
)


@dataclass(frozen=True)
class SimApp:
    """The simulator's built-in X app and the probe account's tokens for it (not secret:
    they open nothing but the simulator)."""

    consumer_key: str = "replybench-sim-consumer-key"
    consumer_secret: str = "replybench-sim-consumer-secret"
    access_token_secret: str = "replybench-sim-access-token-secret"
    client_id: str = "replybench-sim-client-id"
    access_token: str = "replybench-sim-access-token"
    app_bearer: str = "replybench-sim-app-only-bearer"


SIM_APP = SimApp()


def unsupported_authentication() -> httpx.Response:
    """X's answer to an app-only token on an endpoint that needs a user."""
    return xj.respond(
        403,
        {
            "title": "Unsupported Authentication",
            "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
            "endpoint.  Supported authentication types are [OAuth 1.0a User Context, "
            "OAuth 2.0 User Context].",
            "type": "https://api.twitter.com/2/problems/unsupported-authentication",
            "status": 403,
        },
    )


def token_of(request: httpx.Request) -> str:
    """The access token a request carries: OAuth 1.0a's `oauth_token`, or a bearer token."""
    header = request.headers.get("authorization", "")
    if header.partition(" ")[0].lower() == "oauth":
        return (parse_authorization(header) or {}).get("oauth_token", "")
    return bearer_of(request)


def _token_error(error: str, description: str) -> httpx.Response:
    return httpx.Response(400, json={"error": error, "error_description": description})


@dataclass
class _Code:
    challenge: str
    redirect_uri: str
    expires_at: datetime
    account: str = ""  # who approved ("": the study's `[channels.x]` account)


@dataclass
class XAuth:
    """The credentials the X face accepts (its accounts' own ones: `add_account`)."""

    app: SimApp = SIM_APP
    access_lifetime: timedelta = ACCESS_LIFETIME
    code_lifetime: timedelta = CODE_LIFETIME
    consumers: dict[str, str] = field(default_factory=dict)  # consumer key -> secret
    user_tokens: dict[str, str] = field(default_factory=dict)  # OAuth 1.0a token -> secret
    bearers: dict[str, datetime] = field(default_factory=dict)  # OAuth 2.0 access -> expiry
    refresh_tokens: dict[str, bool] = field(default_factory=dict)  # refresh -> spent
    codes: dict[str, _Code] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)  # the accounts served (lower case)
    owners: dict[str, str] = field(default_factory=dict)  # an OAuth 2.0 token -> its account
    _nonces: set[tuple[str, str, str]] = field(default_factory=set)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.consumers.setdefault(self.app.consumer_key, self.app.consumer_secret)
        self.user_tokens.setdefault(self.app.access_token, self.app.access_token_secret)

    def add_account(self, username: str) -> None:
        """Accept the built-in app's own access token and secret of `username`."""
        token, secret = sim_access(username)
        self.user_tokens[token] = secret
        self.accounts.add(username.lower())

    def owner(self, token: str) -> str:
        """The account an OAuth 2.0 token was issued to ("" for the default account's)."""
        return self.owners.get(token, "")

    # -- checking a request ----------------------------------------------------------------

    def refusal(
        self, request: httpx.Request, endpoint: str, now: datetime
    ) -> httpx.Response | None:
        """None when the request may go on, else X's refusal (401, or 403 for app-only)."""
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "oauth":
            return None if self._signed(request) else xj.unauthorized()
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return xj.unauthorized()
        if hmac.compare_digest(credential, self.app.app_bearer):
            return None if endpoint in APP_ONLY_OK else unsupported_authentication()
        expires = self.bearers.get(credential)
        if expires is None or now >= expires:
            return xj.unauthorized()
        return None

    def _signed(self, request: httpx.Request) -> bool:
        fields = parse_authorization(request.headers.get("authorization", ""))
        if fields is None or fields.get("oauth_signature_method") != "HMAC-SHA1":
            return False
        consumer = self.consumers.get(fields.get("oauth_consumer_key", ""))
        token_secret = self.user_tokens.get(fields.get("oauth_token", ""))
        given = fields.pop("oauth_signature", "")
        if consumer is None or token_secret is None or not given:
            return False
        nonce = (
            fields.get("oauth_consumer_key", ""),
            fields.get("oauth_timestamp", ""),
            fields.get("oauth_nonce", ""),
        )
        params = [*request_params(request), *((k, v) for k, v in fields.items() if k != "realm")]
        expected = signature(request.method, base_url(request), params, consumer, token_secret)
        if not hmac.compare_digest(expected, given) or nonce in self._nonces:
            return False
        self._nonces.add(nonce)
        return True

    # -- the OAuth 2.0 endpoints -----------------------------------------------------------

    def authorize(self, request: httpx.Request, now: datetime) -> httpx.Response:
        """`GET /i/oauth2/authorize`: the person approves at once; 302 to the redirect URI.
        They approve as the account `login_hint` names (the simulator's stand-in for logging
        in to x.com as a persona's account; none: the study's `[channels.x]` account)."""
        q = request.url.params
        redirect = q.get("redirect_uri", "")
        host = urlsplit(redirect).hostname or ""
        account = q.get("login_hint", "").lstrip("@").lower()
        if account and account not in self.accounts:
            return httpx.Response(
                400, text=f"Something went wrong: @{account} is not an account of this study"
            )
        if (
            q.get("response_type") != "code"
            or q.get("client_id") != self.app.client_id
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
            or host not in ("127.0.0.1", "localhost", "::1")
        ):
            return httpx.Response(
                400, text="Something went wrong: the authorisation request is invalid"
            )
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Code(q["code_challenge"], redirect, now + self.code_lifetime, account)
        query = urlencode({"state": q.get("state", ""), "code": code})
        return httpx.Response(302, headers={"Location": f"{redirect}?{query}"})

    def token(self, request: httpx.Request, now: datetime) -> httpx.Response:
        """`POST /2/oauth2/token`: an authorisation code or a refresh token for a new pair."""
        form = dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
        if self._client_id(request, form) != self.app.client_id:
            return httpx.Response(401, json={"error": "unauthorized_client"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            if (
                code is None
                or now >= code.expires_at
                or code.redirect_uri != form.get("redirect_uri")
                or create_s256_code_challenge(verifier) != code.challenge
            ):
                return _token_error(
                    "invalid_request", "Value passed for the authorization code was invalid."
                )
            account = code.account
        elif grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            if self.refresh_tokens.get(refresh, True):  # unknown or spent
                return _token_error("invalid_request", "Value passed for the token was invalid.")
            self.refresh_tokens[refresh] = True
            account = self.owner(refresh)  # a renewed pair stays the account's
        else:
            return _token_error("unsupported_grant_type", "grant_type is not supported")
        return self._issue(now, account)

    def _issue(self, now: datetime, account: str) -> httpx.Response:
        serial = next(self._serial)
        access = f"sim-x-access-{serial}-{secrets.token_urlsafe(18)}"
        refresh = f"sim-x-refresh-{serial}-{secrets.token_urlsafe(18)}"
        self.bearers[access] = now + self.access_lifetime
        self.refresh_tokens[refresh] = False
        if account:
            self.owners[access] = self.owners[refresh] = account
        return httpx.Response(
            200,
            json={
                "token_type": "bearer",
                "expires_in": int(self.access_lifetime.total_seconds()),
                "access_token": access,
                "refresh_token": refresh,
                "scope": "tweet.read tweet.write users.read dm.read offline.access",
            },
        )

    @staticmethod
    def _client_id(request: httpx.Request, form: dict[str, str]) -> str:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(value).decode("utf-8").partition(":")[0]
            except ValueError:
                return ""
        return form.get("client_id", "")
