"""Fakes and helpers shared by the X channel's tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from study.clock import ManualClock
from study.model import PlannedProbe, Scope
from tests.probes.cassette import FIXTURES, load_cassette

X = FIXTURES / "x"
START = datetime(2022, 10, 8, 9, 0, tzinfo=UTC)
TWEEPY_DEV = "1072250532645998596"  # the account tweepy recorded with
TWITTER = "783214"  # @Twitter, whose mentions and posts tweepy recorded


def probe(text: str = "Hello @brand, do you ship to Norway?") -> PlannedProbe:
    return PlannedProbe(
        "brand-NO-x-r1", "brand", "NO", "x", "brand", Scope.LOCAL, "s1", "business", 1,
        text, START, START, START + timedelta(hours=8),
    )  # fmt: skip


def twarc_page(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((X / "twarc" / name).read_text(encoding="utf-8"))
    return body


def cassette(*names: str) -> list[Any]:
    return [r for n in names for r in load_cassette(X / n)]


def json_response(
    status: int, body: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class Fake:
    """A stateful handler: per path, a list of answers (responses, bodies or exceptions)
    served in order, the last repeating; remembers each request and the clock at it."""

    def __init__(self, clock: ManualClock, routes: dict[str, list[Any]]) -> None:
        self.clock, self.routes = clock, routes
        self.calls: list[tuple[httpx.Request, datetime]] = []
        self.routes.setdefault("/2/users/me", [{"data": {"id": TWITTER, "username": "Twitter"}}])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request, self.clock.now()))
        answers = self.routes[request.url.path]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, httpx.Response):
            return answer
        return json_response(200, answer)

    def paths(self, method: str = "GET") -> list[str]:
        return [r.url.path for r, _ in self.calls if r.method == method]

    def params(self, path: str) -> list[dict[str, str]]:
        return [dict(r.url.params) for r, _ in self.calls if r.url.path == path]


def sim_signed(request: httpx.Request) -> httpx.Request:
    """`request` signed as the simulator's built-in X app (the enforcing face checks it)."""
    from probes.channels.x.credentials import sim_auth

    return next(sim_auth().sync_auth_flow(request))
