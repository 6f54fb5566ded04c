"""Sessions and request budgets of the Bluesky face.

Access JWTs live `ACCESS_LIFETIME` of virtual time and refresh JWTs `REFRESH_LIFETIME`; a
refresh JWT is spent when used. Refusals are atproto's: 401 AuthMissing without a token,
400 InvalidToken for an unknown token or the wrong kind, 400 ExpiredToken for an expired
(or spent) one. Budgets are fixed windows of virtual time, reported in `RateLimit-Limit`,
`-Remaining`, `-Reset` (epoch seconds) and `-Policy` (`3000;w=300`), as bsky.social does.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from probes.sim.bluesky.views import XrpcError, invalid

ACCESS_LIFETIME = timedelta(hours=2)  # bsky.social's access JWTs
REFRESH_LIFETIME = timedelta(days=90)
# An app password's access JWT says whether it may use direct messages: `appPassPrivileged`
# when "Allow access to your direct messages" was ticked, `appPass` when not (the atproto
# PDS's auth-verifier scopes).
ACCESS_SCOPE, PRIVILEGED_SCOPE = "com.atproto.appPass", "com.atproto.appPassPrivileged"
REFRESH_SCOPE = "com.atproto.refresh"
PDS_DID = "did:web:bsky.social"
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
# (limit, window in seconds): every call shares one per-account budget (RateLimit-Policy
# 3000;w=300 in every recording); logins (createSession) have their own two, 30 per 5 minutes
# and 300 per day per account (https://docs.bsky.app/docs/advanced-guides/rate-limits).
LIMITS: dict[str, tuple[int, int]] = {
    "global": (3000, 300),
    "session": (30, 300),
    "session-day": (300, 86_400),
}


@dataclass
class _Token:
    did: str
    scope: str
    expires_at: datetime
    revoked: bool = False


class Sessions:
    """Access and refresh JWTs (opaque here: the face keeps what each one means)."""

    def __init__(self, access: timedelta, refresh: timedelta) -> None:
        self.access_lifetime, self.refresh_lifetime = access, refresh
        self.tokens: dict[str, _Token] = {}
        self._serial = itertools.count(1)

    def issue(self, did: str, now: datetime, *, privileged: bool) -> tuple[str, str]:
        scope = PRIVILEGED_SCOPE if privileged else ACCESS_SCOPE
        access = self._jwt("at+jwt", scope, did, now, now + self.access_lifetime)
        refresh = self._jwt("refresh+jwt", REFRESH_SCOPE, did, now, now + self.refresh_lifetime)
        return access, refresh

    def verify(self, request: httpx.Request, now: datetime, mode: str) -> str | None:
        """The caller's DID; `mode` is none, optional, access, chat (an access token of a
        password with the DM privilege, through the chat proxy) or refresh (which spends the
        refresh token: refresh tokens are single-use)."""
        if mode == "none":
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            if mode == "optional":
                return None
            raise XrpcError(401, "AuthMissing", "Authentication Required")
        found = self.tokens.get(token.strip())
        if found is None:
            raise invalid("Token could not be verified", "InvalidToken")
        wanted = (REFRESH_SCOPE,) if mode == "refresh" else (ACCESS_SCOPE, PRIVILEGED_SCOPE)
        if found.scope not in wanted:
            raise invalid("Bad token scope", "InvalidToken")
        if now >= found.expires_at:
            raise invalid("Token has expired", "ExpiredToken")
        if found.revoked:
            raise invalid("Token has been revoked", "ExpiredToken")
        if mode == "refresh":
            found.revoked = True
        if mode == "chat":
            _check_chat(request, found.scope)
        return found.did

    def owner(self, token: str) -> str | None:
        """The DID a token was issued to (checked or not), None for a token never issued."""
        found = self.tokens.get(token)
        return found.did if found is not None else None

    def expire(self, now: datetime) -> None:
        """End every access token now (tests: the next call must refresh)."""
        for t in self.tokens.values():
            if t.scope != REFRESH_SCOPE:
                t.expires_at = min(t.expires_at, now)

    def _jwt(self, typ: str, scope: str, did: str, now: datetime, expires: datetime) -> str:
        def b64(data: dict[str, Any]) -> str:
            raw = json.dumps(data, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        claims: dict[str, Any] = {
            "scope": scope,
            "sub": did,
            "aud": PDS_DID,
            "jti": str(next(self._serial)),
        }
        claims |= {"iat": int(now.timestamp()), "exp": int(expires.timestamp())}
        head = b64({"typ": typ, "alg": "ES256K"}) + "." + b64(claims)
        signature = hashlib.sha256(head.encode()).digest() * 2
        token = head + "." + base64.urlsafe_b64encode(signature).decode().rstrip("=")
        self.tokens[token] = _Token(did, scope, expires)
        return token


def _check_chat(request: httpx.Request, scope: str) -> None:
    """The PDS forwards chat.bsky.* only where `atproto-proxy` says (it has no default
    service for them: "No service configured for ..."), and only for a session that may use
    direct messages: an app password without the privilege gets 400 InvalidToken "Bad token
    method" (bluesky-social/atproto packages/pds/src/pipethrough.ts and its
    app-passwords.test.ts; "Bad token scope" before mid-2025)."""
    method = request.url.path.rsplit("/", 1)[-1]
    if request.headers.get("atproto-proxy") != CHAT_PROXY:
        raise invalid(f"No service configured for {method}")
    if scope != PRIVILEGED_SCOPE:
        raise invalid("Bad token method", "InvalidToken")


class Limits:
    """Fixed windows of virtual time, opened by their first request, per budget."""

    def __init__(self, limits: Mapping[str, tuple[int, int]] | None = None) -> None:
        self.limits = {**LIMITS, **(limits or {})}
        self._windows: dict[str, tuple[datetime, int]] = {}

    def take(self, bucket: str, now: datetime) -> tuple[bool, dict[str, str]]:
        limit, seconds = self.limits[bucket]
        resets, used = self._windows.get(bucket, (now, 0))
        if now >= resets:
            resets, used = now + timedelta(seconds=seconds), 0
        allowed = used < limit
        self._windows[bucket] = (resets, used + 1 if allowed else used)
        return allowed, self.headers(bucket, now)

    def headers(self, bucket: str, now: datetime) -> dict[str, str]:
        limit, seconds = self.limits[bucket]
        resets, used = self._windows.get(bucket, (now, 0))
        if now >= resets:
            resets, used = now + timedelta(seconds=seconds), 0
        return {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(limit - used),
            "RateLimit-Reset": str(int(resets.timestamp())),
            "RateLimit-Policy": f"{limit};w={seconds}",
        }
