"""The X channel's rate limits, retries and errors, against small stateful fakes."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from probes.channels.base import AuthError, OutcomeUnknown, RateLimit, Rejected, Transient
from probes.channels.x.adapter import MENTIONS, XChannel
from probes.channels.x.oauth1 import OAuth1Auth, OAuth1Credentials
from study.clock import ManualClock
from tests.probes.cassette import SECRET_TOKEN, client_for
from tests.probes.x_fakes import START, TWITTER, Fake, X, json_response, probe

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# -- rate limits, retries and errors ------------------------------------------------------


def limited(body: object, remaining: int, reset: datetime, status: int = 200) -> httpx.Response:
    headers = {"x-rate-limit-limit": "75", "x-rate-limit-remaining": str(remaining),
               "x-rate-limit-reset": str(int(reset.timestamp()))}  # fmt: skip
    return json_response(status, body, headers)


async def test_spent_budget_waits_for_the_reset(clock: ManualClock) -> None:
    reset = START + timedelta(minutes=7)
    page1 = limited({"data": [], "meta": {"next_token": "next"}}, remaining=0, reset=reset)
    fake = Fake(clock, {f"/2/users/{TWITTER}/mentions": [page1, {"meta": {}}],
                        "/2/dm_events": [{"meta": {}}]})  # fmt: skip
    async with client_for(fake) as client:
        x = XChannel(client, account="Twitter", clock=clock)
        await x.inbox(None)
    times = [t for r, t in fake.calls if r.url.path.endswith("/mentions")]
    assert times == [START, reset + timedelta(seconds=1)]
    assert x.rate_limits[MENTIONS] == RateLimit(MENTIONS, 75, 0, reset)


async def test_429_waits_for_the_reset_then_succeeds(clock: ManualClock) -> None:
    reset = START + timedelta(minutes=5)
    too_many = limited({"title": "Too Many Requests", "detail": "Too Many Requests"}, 0, reset, 429)
    fake = Fake(clock, {"/2/users/me": [too_many, {"data": {"id": "7", "username": "Twitter"}}]})
    async with client_for(fake) as client:
        assert await XChannel(client, account="Twitter", clock=clock).me() == "7"
    assert [t for _, t in fake.calls] == [START, reset + timedelta(seconds=1)]


class Highest(random.Random):
    """Jitter that always picks the top of the range, so waits are exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


def unavailable(_: httpx.Request) -> httpx.Response:
    return json_response(503, {"title": "Service Unavailable", "detail": "Over capacity"})


async def test_5xx_on_get_backs_off_then_gives_up(clock: ManualClock) -> None:
    fake = Fake(clock, {"/2/users/me": [unavailable]})
    async with client_for(fake) as client:
        x = XChannel(client, account="Twitter", clock=clock, rng=Highest(), max_retries=3)
        with pytest.raises(Transient, match="failed after 4 attempts: 503 .*Over capacity"):
            await x.me()
    assert [(t - START).total_seconds() for _, t in fake.calls] == [0, 1, 3, 7]


async def test_transient_get_errors_are_retried(clock: ManualClock) -> None:
    ok = {"data": {"id": "7", "username": "Twitter"}}
    fake = Fake(clock, {"/2/users/me": [httpx.ReadTimeout("slow"), unavailable, ok]})
    async with client_for(fake) as client:
        assert await XChannel(client, account="Twitter", clock=clock).me() == "7"
    assert len(fake.calls) == 3
    assert START < clock.now() <= START + timedelta(seconds=1 + 2)  # full jitter: 0..1, 0..2


def duplicate(_: httpx.Request) -> httpx.Response:
    body = {"detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank", "title": "Forbidden", "status": 403}  # fmt: skip
    return json_response(403, body)


def problem_400(_: httpx.Request) -> httpx.Response:
    return json_response(400, json.loads((X / "problem_error_example.json").read_text()))


def echoes_token(request: httpx.Request) -> httpx.Response:
    return json_response(400, {"title": "Bad", "detail": f"got {request.headers['authorization']}"})


POST_FAILURES: list[tuple[Any, type[Exception], str]] = [
    (unavailable, OutcomeUnknown, "503 Service Unavailable"),
    (
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        OutcomeUnknown,
        "may have been sent",
    ),  # fmt: skip
    (httpx.ReadTimeout("timed out"), OutcomeUnknown, "ReadTimeout"),
    (httpx.ConnectError("connection refused"), Transient, "nothing was sent"),
    (duplicate, OutcomeUnknown, "duplicate content"),
    (
        json_response(403, {"title": "Forbidden", "detail": "not permitted"}),
        AuthError,
        "lacks access",
    ),
    (json_response(429, {"title": "Too Many Requests"}), Transient, "429"),
    (problem_400, Rejected, "Invalid Request: One or more parameters .*; JSON doesn't match"),
    (echoes_token, Rejected, r"got \[redacted\]"),
]


@pytest.mark.parametrize(("answer", "error", "message"), POST_FAILURES)
async def test_post_failures_are_never_retried(
    clock: ManualClock, answer: Any, error: type[Exception], message: str
) -> None:
    fake = Fake(clock, {"/2/tweets": [answer]})
    async with client_for(fake) as client:
        with pytest.raises(error, match=message) as caught:
            await XChannel(client, account="Twitter", clock=clock).send(probe())
    assert fake.paths("POST") == ["/2/tweets"]
    assert SECRET_TOKEN not in str(caught.value)
    assert "brand-NO-x-r1" in str(caught.value) or error is not Rejected


@pytest.mark.parametrize(
    "answer", [json_response(401, {"title": "Unauthorized", "type": "about:blank",
                                   "status": 401, "detail": "Unauthorized"}), echoes_token]
)  # fmt: skip
async def test_get_401_is_auth_error_at_once(clock: ManualClock, answer: Any) -> None:
    if answer is echoes_token:
        answer = lambda r: json_response(401, echoes_token(r).json())  # noqa: E731
    fake = Fake(clock, {"/2/users/me": [answer]})
    async with client_for(fake) as client:
        with pytest.raises(AuthError) as caught:
            await XChannel(client, account="Twitter", clock=clock).me()
    assert len(fake.calls) == 1 and clock.now() == START
    assert str(caught.value).startswith(
        "X API answered 401 Unauthorized for GET /2/users/me: "
        "the bearer token is missing, expired or lacks access"
    )
    assert SECRET_TOKEN not in str(caught.value)


OAUTH1 = OAuth1Credentials("ck-secret-1", "cs-secret-2", "7-at-secret-3", "ats-secret-4")
UNAUTHORIZED = json_response(
    401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
)


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/2/users/me", UNAUTHORIZED),
        ("/2/tweets", json_response(403, {"title": "Forbidden", "detail": "not permitted"})),
    ],
)
async def test_an_oauth1_refusal_names_the_oauth1_credentials(
    clock: ManualClock, path: str, answer: httpx.Response
) -> None:
    """An OAuth 1.0a-signed client carries no bearer token: the message says which credential
    X refused."""
    fake = Fake(clock, {path: [answer]})  # users/me answers by default
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(fake),
        base_url="https://api.twitter.com",
        auth=OAuth1Auth(OAUTH1, clock=clock),
    ) as client:
        x = XChannel(client, account="Twitter", clock=clock)
        with pytest.raises(AuthError) as caught:
            await (x.me() if path == "/2/users/me" else x.send(probe()))
    message = str(caught.value)
    assert "bearer token" not in message
    assert (
        "the OAuth 1.0a credentials (consumer key and secret, access token and secret) are "
        "wrong or revoked, or lack access"
    ) in message
    assert not any(secret in message for secret in OAUTH1.secrets())


async def test_get_errors_never_show_the_token(clock: ManualClock) -> None:
    boom = httpx.ConnectError(f"refused; header was Bearer {SECRET_TOKEN}")
    fake = Fake(clock, {"/2/users/me": [boom]})
    async with client_for(fake) as client:
        with pytest.raises(Transient) as caught:
            await XChannel(client, account="Twitter", clock=clock, max_retries=1).me()
    assert SECRET_TOKEN not in str(caught.value) and "[redacted]" in str(caught.value)


async def test_lookup_refuses_what_is_not_a_username(clock: ManualClock) -> None:
    fake = Fake(clock, {})
    async with client_for(fake) as client:
        with pytest.raises(Rejected, match="not an X username"):
            await XChannel(client, account="Twitter", clock=clock).lookup("../tweets")
    assert fake.calls == []


def token_in_reason(status: int) -> Any:
    """An answer whose HTTP reason phrase (server-chosen text) quotes the request's header."""

    def answer(request: httpx.Request) -> httpx.Response:
        reason = f"Bad {request.headers['authorization']}".encode()
        return httpx.Response(status, json={}, extensions={"reason_phrase": reason})

    return answer


@pytest.mark.parametrize(
    ("path", "status", "error", "shown"),
    [
        ("/2/users/me", 401, AuthError, "X API answered 401 Unauthorized for GET /2/users/me"),
        ("/2/users/me", 503, Transient, "failed after 1 attempts: 503 Service Unavailable"),
        ("/2/tweets", 400, Rejected, "brand-NO-x-r1: 400 Bad Request"),
    ],
)
async def test_a_reason_phrase_quoting_the_token_is_not_shown(
    clock: ManualClock, path: str, status: int, error: type[Exception], shown: str
) -> None:
    fake = Fake(clock, {path: [token_in_reason(status)]})
    async with client_for(fake) as client:
        x = XChannel(client, account="Twitter", clock=clock, max_retries=0)
        with pytest.raises(error) as caught:
            await (x.send(probe()) if path == "/2/tweets" else x.me())
    assert shown in str(caught.value)
    assert SECRET_TOKEN not in str(caught.value)
