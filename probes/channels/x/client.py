"""The HTTP client of the X channel: signed with the credential study.toml names
(probes.channels.x.credentials), and what it holds that messages must never show."""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx

from probes.channels.base import AuthError
from probes.channels.common import make_client
from probes.channels.http import BEARER_REFUSED
from probes.channels.tokens import TokenStore
from probes.channels.x.credentials import XCredential, sim_oauth1
from probes.channels.x.oauth1 import OAuth1Auth
from probes.channels.x.oauth2 import CrashHook, XTokens, XTokensAuth
from study.clock import Clock


def make_signed_client(
    api_base: str,
    credential: XCredential,
    *,
    account: str,
    clock: Clock,
    store: TokenStore | None = None,
    crash: CrashHook | None = None,
    timeout: float = 30,
) -> httpx.AsyncClient:
    """The client for `credential` (probes.channels.x.credentials): OAuth 1.0a signing, the
    stored OAuth 2.0 pair renewed before expiry, or a static bearer token."""
    if credential.kind == "bearer":
        return make_client(api_base, credential.bearer, timeout)
    auth: httpx.Auth
    if credential.kind == "oauth2":
        if store is None or credential.client is None:
            raise AuthError("OAuth 2.0 on X needs the study's token store")
        tokens = XTokens(
            store, account, credential.client, api_base=api_base, clock=clock, crash=crash
        )
        auth = XTokensAuth(tokens)
    elif credential.kind == "sim":
        auth = OAuth1Auth(sim_oauth1(account), clock=clock)  # the account's own tokens
    else:
        assert credential.oauth1 is not None
        auth = OAuth1Auth(credential.oauth1, clock=clock)
    client = make_client(api_base, None, timeout)
    client.auth = auth
    return client


def auth_secrets(auth: httpx.Auth | None) -> tuple[str, ...]:
    """The credentials an X client's `auth` holds, to keep out of messages."""
    if isinstance(auth, XTokensAuth):
        return auth.tokens.secrets()
    if isinstance(auth, OAuth1Auth):
        return auth.credentials.secrets()
    return ()


def auth_refusal(auth: httpx.Auth | None) -> str:
    """What X's 401 or 403 means for the credential an X client's `auth` signs with
    (probes.channels.x.credentials), as messages say it."""
    if isinstance(auth, XTokensAuth):
        return (
            "the OAuth 2.0 access token is expired or revoked, or lacks access; renew the pair "
            "with `replybench login x STUDY`"
        )
    if isinstance(auth, OAuth1Auth):
        return (
            "the OAuth 1.0a credentials (consumer key and secret, access token and secret) "
            "are wrong or revoked, or lack access"
        )
    return BEARER_REFUSED


def drill_crash(env: Mapping[str, str]) -> CrashHook | None:
    """The crash drill's kill inside a token refresh (REPLYBENCH_DRILL_CRASH_IN_REFRESH=point),
    as kill -9 would: no cleanup, no flush."""
    point = env.get("REPLYBENCH_DRILL_CRASH_IN_REFRESH", "")
    if not point:
        return None

    def crash(at: str) -> None:
        if at == point:
            os._exit(137)

    return crash
