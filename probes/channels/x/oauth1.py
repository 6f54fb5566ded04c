"""OAuth 1.0a user context for X: every request signed with HMAC-SHA1 (RFC 5849).

OAuth 1.0a user tokens do not expire and may post, delete, read mentions and read DMs on X API
v2 (https://docs.x.com/fundamentals/authentication/oauth-1-0a/api-key-and-secret), so they are
the default credential of an unattended run: four values, each in an environment variable
named in study.toml (`consumer_key_env`, `consumer_secret_env`, `access_token_env`,
`access_token_secret_env`).

The signature base string and the HMAC come from authlib's RFC 5849 implementation
(`authlib.oauth1.rfc5849.signature`); only the choice of parameters is ours. authlib's own
httpx `OAuth1Auth` is not used: it drops a JSON body from the request it sends (it signs
non-form bodies as empty and then sends the empty body) and reads the wall clock for
`oauth_timestamp`, where ours comes from the injected clock. As X documents in "Creating a
signature" (https://docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature),
the parameters signed are the query string's, a form body's (never a JSON body's) and the
`oauth_*` ones; the base URL is the scheme, host and path.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote
from urllib.request import parse_http_list, parse_keqv_list

import httpx
from authlib.oauth1.rfc5849.signature import construct_base_string, hmac_sha1_signature

from study.clock import Clock

SIGNATURE_METHOD = "HMAC-SHA1"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class OAuth1Credentials:
    """An X app's consumer key and secret and the probe account's access token and secret."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str

    def __repr__(self) -> str:  # never print a secret, even in a traceback's locals
        return f"OAuth1Credentials(consumer_key=..., access_token={self.user_id() or '...'})"

    def secrets(self) -> tuple[str, ...]:
        """Every value to keep out of messages."""
        return (
            self.consumer_key,
            self.consumer_secret,
            self.access_token,
            self.access_token_secret,
        )

    def user_id(self) -> str:
        """The user id X puts before the dash of an access token ("12345-abc..."), or ''."""
        head, dash, _ = self.access_token.partition("-")
        return head if dash and head.isdigit() else ""


def request_params(request: httpx.Request) -> list[tuple[str, str]]:
    """The request's own parameters that are signed: its query's and a form body's."""
    params = parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)
    if request.headers.get("content-type", "").split(";")[0].strip() == FORM:
        params += parse_qsl(request.content.decode("utf-8"), keep_blank_values=True)
    return params


def base_url(request: httpx.Request) -> str:
    """Scheme, host (port only when not the scheme's default) and path, as RFC 5849 3.4.1.2."""
    url = request.url
    return str(url.copy_with(query=None, fragment=None))


def signature(
    method: str,
    url: str,
    params: Iterable[tuple[str, str]],
    consumer_secret: str,
    token_secret: str,
) -> str:
    """The HMAC-SHA1 `oauth_signature` of a request (RFC 5849 3.4.1 and 3.4.2)."""
    base = construct_base_string(method.upper(), url, list(params))
    return str(hmac_sha1_signature(base, consumer_secret, token_secret))


def oauth_params(
    credentials: OAuth1Credentials, *, nonce: str, timestamp: int
) -> list[tuple[str, str]]:
    return [
        ("oauth_consumer_key", credentials.consumer_key),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", SIGNATURE_METHOD),
        ("oauth_timestamp", str(timestamp)),
        ("oauth_token", credentials.access_token),
        ("oauth_version", "1.0"),
    ]


def authorization(
    credentials: OAuth1Credentials,
    method: str,
    url: str,
    params: Iterable[tuple[str, str]],
    *,
    nonce: str,
    timestamp: int,
) -> str:
    """The `Authorization: OAuth ...` header value of a request (RFC 5849 3.5.1)."""
    oauth = oauth_params(credentials, nonce=nonce, timestamp=timestamp)
    sig = signature(
        method,
        url,
        [*params, *oauth],
        credentials.consumer_secret,
        credentials.access_token_secret,
    )
    fields = [*oauth, ("oauth_signature", sig)]
    return "OAuth " + ", ".join(f'{quote(k, safe="~")}="{quote(v, safe="~")}"' for k, v in fields)


def parse_authorization(header: str) -> dict[str, str] | None:
    """The parameters of an `Authorization: OAuth ...` header, or None if it is not one."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "oauth" or not rest.strip():
        return None
    try:
        items = parse_keqv_list(parse_http_list(rest))
    except (IndexError, ValueError):
        return None

    return {unquote(k.strip()): unquote(v) for k, v in items.items()}


class OAuth1Auth(httpx.Auth):
    """Signs each request as the probe account (an `httpx.Auth`: set as the client's `auth`).

    `clock` gives `oauth_timestamp` (X refuses a timestamp far from its own clock; the
    simulator's is the injected one); `nonce` makes the one-time `oauth_nonce`."""

    requires_request_body = True

    def __init__(
        self,
        credentials: OAuth1Credentials,
        *,
        clock: Clock,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self.nonce = nonce

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = authorization(
            self.credentials,
            request.method,
            base_url(request),
            request_params(request),
            nonce=self.nonce(),
            timestamp=int(self.clock.now().timestamp()),
        )
        yield request
