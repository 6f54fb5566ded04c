"""The simulator's `Face`: one simulated platform (X, Mastodon, Bluesky), written once.

A face is a stateful fake platform for one study. `handle` answers an `httpx.Request` as the
platform would (so tests use `httpx.MockTransport(face.handle)` and the server wraps it in
HTTP), `refuse` answers with an injected failure in the platform's own shape, and `close`
closes the ledger. Every face keeps its own shapes (JSON, ids, errors, routing); what is
the same on all of them lives here: building a face for a study, the world behind one lock
whose due bot actions are applied before each request, scripted replies and DMs for tests,
and the helpers of request handling (bearer tokens, routes, answering under a rate limit).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar, Generic, Protocol, Self, TypedDict, TypeVar

import httpx

from probes.sim.bots import Action
from probes.sim.brands import planned
from probes.sim.ledger import Ledger
from probes.sim.profiles import SimSettings, default_settings
from probes.sim.world import DueActions
from study.clock import Clock
from study.model import ReplyKind, Study

W = TypeVar("W", bound=DueActions)


class FaceOptions(TypedDict, total=False):
    """What every face is built with beside the study and the clock (see `Face`)."""

    settings: SimSettings | None
    probe_index: Mapping[str, tuple[str, str]] | None
    ledger: Ledger | Path | None
    bots: bool
    lenient: bool


class Face(Generic[W]):
    """One simulated platform for one study; `handle` and `refuse` are thread-safe.

    `probe_index` maps a planned probe's text to its (brand, country); `ledger` records every
    accepted post and DM; `bots=False` leaves answering to the test (`reply`, `send_dm`);
    `lenient=True` turns the platform's rules off (rate limits, X's duplicate content).
    A subclass names its `CHANNEL`, takes its own options beside `**FaceOptions`, builds its
    `world` and answers in `_answer` and `_refusal`.
    """

    CHANNEL: ClassVar[str]
    world: W

    def __init__(
        self,
        study: Study,
        clock: Clock,
        *,
        settings: SimSettings | None = None,
        probe_index: Mapping[str, tuple[str, str]] | None = None,
        ledger: Ledger | Path | None = None,
        bots: bool = True,
        lenient: bool = False,
    ) -> None:
        self.study = study
        self.clock = clock
        self.settings = settings or default_settings(study.seed)
        self.probe_index = dict(probe_index or {})
        self.ledger = Ledger(ledger) if isinstance(ledger, Path) else ledger
        self.bots_enabled = bots
        self.lenient = lenient
        self._lock = threading.RLock()

    @classmethod
    def for_study(
        cls,
        study: Study,
        clock: Clock,
        *,
        ledger: Ledger | Path | None = None,
        lenient: bool = False,
    ) -> Self:
        """The face as `replybench sim` builds it: `simulator.toml` from the study's folder
        (`study.path`) and the probe index from the study's plan (its probes on `CHANNEL`)."""
        settings, index = planned(study, cls.CHANNEL)
        return cls(
            study, clock, settings=settings, probe_index=index, ledger=ledger, lenient=lenient
        )

    # -- the transport -------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the platform would (a `httpx.MockTransport` handler), after
        applying every bot action due by the clock's now, oldest first."""
        with self._lock:
            now = self.clock.now()
            self.world.apply_due(now)
            return self._answer(request, now)

    def refuse(self, request: httpx.Request, status: int) -> httpx.Response:
        """An injected failure, as the platform gives it: 429 (its budget's headers, none
        remaining), 500 or 503."""
        with self._lock:
            return self._refusal(request, status, self.clock.now())

    def close(self) -> None:
        if self.ledger is not None:
            self.ledger.close()

    def _answer(self, request: httpx.Request, now: datetime) -> httpx.Response:
        raise NotImplementedError

    def _refusal(self, request: httpx.Request, status: int, now: datetime) -> httpx.Response:
        raise NotImplementedError

    # -- scripted events, for tests ------------------------------------------------------------

    def reply(
        self,
        post_id: str | int,
        text: str,
        *,
        after: timedelta = timedelta(0),
        author: str | None = None,
        kind: ReplyKind = ReplyKind.PUBLIC_REPLY,
    ) -> None:
        """Make `author` (default: the first brand the post mentions, else a stranger) reply
        to the post `after` from now."""
        with self._lock:
            number, first_brand, text = self._reply_to(post_id, text)
            at, who = self.clock.now() + after, author or first_brand
            self.world.schedule(Action(at, who, kind, text, number, False, number))

    def send_dm(self, sender: str, text: str, *, after: timedelta = timedelta(0)) -> None:
        """Make `sender` send the probe account a direct message `after` from now."""
        with self._lock:
            at, kind, to = self.clock.now() + after, ReplyKind.DIRECT_MESSAGE, self.probe_address()
            self.world.schedule(Action(at, sender, kind, text, None, True, None, to))

    def pending(self) -> list[Action]:
        """What bots and strangers will do and have not done yet, in time order."""
        with self._lock:
            return self.world.pending()

    def probe_address(self) -> str:
        """How the face's direct messages address the probe account."""
        raise NotImplementedError

    def _reply_to(self, post_id: str | int, text: str) -> tuple[int, str, str]:
        """(the post's number for the bots, who answers it by default, the reply's text as
        that platform's app writes it) for a scripted reply to a post."""
        raise NotImplementedError


# -- request handling --------------------------------------------------------------------------


def bearer_of(request: httpx.Request) -> str:
    """The bearer token a request carries ("" if none)."""
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else ""


def bearer_ok(request: httpx.Request, token: str | None) -> bool:
    """Whether a request has a bearer token: `token` if given, else any non-empty one."""
    credential = bearer_of(request)
    return bool(credential) and (token is None or credential == token)


E = TypeVar("E")


class Routes(Generic[E]):
    """A face's endpoints by key ("GET /2/users/:id/mentions"), found for a request."""

    def __init__(self, endpoints: Mapping[str, E]) -> None:
        self._routes: list[tuple[str, re.Pattern[str], str, E]] = []
        for key, endpoint in endpoints.items():
            method, path = key.split(" ")
            pattern = re.compile(re.sub(r":(\w+)", r"(?P<\1>[^/]+)", path))
            self._routes.append((method, pattern, key, endpoint))

    def find(self, request: httpx.Request) -> tuple[str, E, dict[str, str]] | None:
        """(key, endpoint, path arguments) of the request's endpoint, None if unknown."""
        path = request.url.path.rstrip("/")
        for method, pattern, key, endpoint in self._routes:
            m = pattern.fullmatch(path)
            if m is not None and request.method == method:
                return key, endpoint, m.groupdict()
        return None

    def key(self, request: httpx.Request) -> str | None:
        """The key of the request's endpoint ("GET /2/users/:id/mentions"), None if unknown."""
        found = self.find(request)
        return found[0] if found else None


class Refusal(Exception):
    """A request the platform would refuse: carries the response to send (in its shape)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class Limiter(Protocol):
    def take(self, key: str, now: datetime) -> tuple[bool, dict[str, str]]: ...


def limited(
    limits: Limiter,
    key: str,
    now: datetime,
    answer: Callable[[], httpx.Response],
    too_many: Callable[[], httpx.Response],
) -> httpx.Response:
    """Spend one request of `key`'s budget: `too_many()` when it is spent, else `answer()` (or
    the response of the `Refusal` it raises); the budget's headers on the response either way."""
    allowed, headers = limits.take(key, now)
    if not allowed:
        response = too_many()
    else:
        try:
            response = answer()
        except Refusal as refusal:
            response = refusal.response
    response.headers.update(headers)
    return response
