"""`replybench login x STUDY`: the probe account authorises the study's X app once (OAuth 2.0
Authorization Code with PKCE), and the token pair goes to the token store.

As X documents (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code):
the person opens the authorisation URL and approves; X redirects the browser to the app's
callback with `code` and the `state` we sent; the code must be exchanged within 30 seconds.
The callback here is a one-shot HTTP server on the loopback interface (RFC 8252 7.3), on a
free port unless one is given (X matches callback URLs exactly: register
`http://127.0.0.1:PORT/callback` in the app's settings and pass `--port PORT`). A request
whose `state` is not ours is refused and waited past (RFC 6749 10.12), so another page
cannot plant its code. The code is exchanged at once, and the pair saved durably before
anything else (probes.channels.tokens).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from probes.channels.base import AuthError, Transient
from probes.channels.registry import api_base_of, check_api_base, is_loopback
from probes.channels.tokens import TokenStore
from probes.channels.x.credentials import x_credential
from probes.channels.x.oauth2 import (
    AUTHORIZE_URL,
    STORE_KIND,
    Client,
    TokenPair,
    authorization_url,
    code_request,
    pkce,
    token_pair,
)
from study.clock import Clock
from study.errors import StudyError, UsageError
from study.model import ChannelSettings, Study
from study.personas import personas_of

CALLBACK_PATH = "/callback"
WAIT_SECONDS = 300.0  # for the person to approve; the code then has 30 s of X's time
_PAGE = (
    "<!doctype html><meta charset=utf-8><title>replybench</title><p>{}</p>"
    "<p>You may close this window.</p>"
)


@dataclass(frozen=True)
class LoggedIn:
    """What `login x` did: whose pair, until when, and where it is kept (not the pair)."""

    account: str
    expires_at_text: str
    path: Path


class _Callback:
    """The loopback redirect target: hands the first request with our `state` to `got`."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.got: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            while (await asyncio.wait_for(reader.readline(), 10)).strip():
                pass  # the headers: nothing in them matters
            status, text = self._answer(line.decode("latin-1"))
        except (TimeoutError, ValueError, asyncio.LimitOverrunError):
            status, text = 400, "That was not a complete request."
        body = _PAGE.format(text).encode("utf-8")
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Bad Request'}\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode("ascii") + body)
        try:
            await writer.drain()
        finally:
            writer.close()

    def _answer(self, request_line: str) -> tuple[int, str]:
        method, _, rest = request_line.partition(" ")
        target = rest.rsplit(" ", 1)[0]
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method != "GET" or parts.path != CALLBACK_PATH:
            return 400, "This is replybench's login callback; nothing else is served here."
        if not secrets.compare_digest(query.get("state", ""), self.state):
            return 400, "The state does not match this login: ignored."
        if not self.got.done():
            self.got.set_result(query)
        if "error" in query:
            return 200, "X did not authorise replybench. Go back to the terminal."
        return 200, "replybench has the authorisation. Go back to the terminal."


async def authorise(
    client: httpx.AsyncClient,
    x_app: Client,
    *,
    api_base: str,
    authorize: str,
    clock: Clock,
    open_browser: Callable[[str], object],
    say: Callable[[str], None],
    port: int = 0,
    wait_seconds: float = WAIT_SECONDS,
) -> TokenPair:
    """Open the authorisation URL, take the code the browser brings to the loopback callback,
    and exchange it at once at `api_base`'s token endpoint (on `client`). The pair's expiry
    is on `clock` (the simulator's, when it is the simulator)."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(24)
    callback = _Callback(state)
    server = await asyncio.start_server(callback.serve, "127.0.0.1", port)
    try:
        bound = server.sockets[0].getsockname()[1]
        redirect = f"http://127.0.0.1:{bound}{CALLBACK_PATH}"
        url = authorization_url(
            authorize, x_app, redirect_uri=redirect, state=state, challenge=challenge
        )
        say(f"Open this address in a browser logged in as the probe account:\n{url}")
        open_browser(url)
        try:
            query = await asyncio.wait_for(asyncio.shield(callback.got), wait_seconds)
        except TimeoutError:
            raise StudyError(
                f"no answer from X's authorisation page within {wait_seconds:.0f} s (nothing "
                f"reached {redirect}); run `replybench login x` again and approve in the browser"
            ) from None
    finally:
        server.close()
        await server.wait_closed()
    if "error" in query:
        raise StudyError(
            f"X did not authorise the app ({query['error'][:80]}); run `replybench login x` "
            "again and press 'Authorize app'"
        )
    code = query.get("code", "")
    if not code:
        raise StudyError("X's redirect carried no code; run `replybench login x` again")
    request = code_request(api_base, x_app, code=code, verifier=verifier, redirect_uri=redirect)
    try:
        response = await client.send(request)
    except httpx.TransportError as e:
        raise StudyError(
            f"could not reach X's token endpoint ({type(e).__name__}); run `replybench login x` "
            "again"
        ) from None
    try:
        return token_pair(response, clock.now(), "authorisation code")
    except (AuthError, Transient) as e:
        raise StudyError(
            f"{e}; the code is valid for 30 s and once: run `replybench login x` again"
        ) from None


def authorize_endpoint(api_base: str) -> str:
    """x.com's consent page, or the simulator's stand-in for it at the API base."""
    return f"{api_base.rstrip('/')}/i/oauth2/authorize" if is_loopback(api_base) else AUTHORIZE_URL


def x_settings(study: Study) -> ChannelSettings:
    try:
        return study.channel("x")
    except KeyError:
        raise StudyError(
            "study.toml has no [channels.x] table; there is nothing to log in to"
        ) from None


def persona_settings(study: Study, name: str) -> ChannelSettings:
    """The X settings of the persona `name` (its account and keys); UsageError for a name
    that is no persona of the study on X."""
    on_x = {p.name: p for p in personas_of(study) if p.channel == "x" and p.declared}
    if name not in on_x:
        raise UsageError(
            f"--persona {name}: the study has no such persona on X; its X personas are "
            f"{', '.join(sorted(on_x)) or 'none'} (study.toml [personas.NAME] with "
            'channel = "x")'
        )
    return on_x[name].settings


def oauth2_app(settings: ChannelSettings, env: Mapping[str, str], api_base: str) -> Client:
    """The X app's OAuth 2.0 client that study.toml names; StudyError when it names none."""
    credential = x_credential(settings, env, loopback=is_loopback(api_base))
    if credential.client is None:
        raise StudyError(
            "study.toml [channels.x] names no OAuth 2.0 client: add client_id_env (and "
            "client_secret_env for a confidential client) naming the variables that hold the "
            "X app's client id and secret (docs/going-live.md); OAuth 1.0a needs no login"
        )
    return credential.client


async def login_x(
    study_dir: Path,
    *,
    env: Mapping[str, str],
    api_base: str | None,
    live: bool,
    open_browser: Callable[[str], object],
    say: Callable[[str], None],
    port: int = 0,
    clock: Clock | None = None,
    persona: str | None = None,
) -> LoggedIn:
    """`replybench login x`: authorise, exchange, and store the pair for the study's X probe
    account, or `persona`'s (the store is keyed by account), with the simulator's clock
    when `api_base` is the simulator."""
    from probes.campaign import discover_clock
    from study.load import load_study
    from study.timeutil import iso

    study = load_study(study_dir)
    settings = x_settings(study) if persona is None else persona_settings(study, persona)
    base = api_base_of(settings, api_base)
    check_api_base(base, live=live, channel="x")
    x_app = oauth2_app(settings, env, base)
    authorize = authorize_endpoint(base)
    if persona is not None and is_loopback(base):
        # The simulator's consent page approves as the account it is told (on x.com, the
        # person logs in as the persona's account in the browser).
        authorize += "?" + urlencode({"login_hint": settings.account.lstrip("@")})
    clock = clock or await discover_clock(base)
    store = TokenStore.for_study(study_dir, env)
    async with httpx.AsyncClient(timeout=30, headers={"User-Agent": "replybench"}) as client:
        pair = await authorise(
            client,
            x_app,
            api_base=base,
            authorize=authorize,
            clock=clock,
            open_browser=open_browser,
            say=say,
            port=port,
        )
    store.save(STORE_KIND, settings.account, pair.to_json())
    path = store.path(STORE_KIND, settings.account)
    return LoggedIn(settings.account.lstrip("@"), iso(pair.expires_at), path)
