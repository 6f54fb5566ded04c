"""What the simulator's faces (X, Mastodon, Bluesky) share, written once.

Every face keeps its own shapes (JSON, ids, errors); what is the same on all of them lives
here: the lazily applied heap of bot actions, the plan index per channel, which brand and
country a probe is for, scheduling its bots' answers, and the face's own plumbing (building
it for a study, bearer tokens, routes, closing the ledger).
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import httpx

from probes.sim.bots import Action, Probe, decide, strangers
from probes.sim.ledger import Ledger
from probes.sim.profiles import SimSettings, study_settings
from study.clock import Clock
from study.model import PlannedProbe, ReplyKind, Study, Target

# -- the world: scheduled actions, applied lazily --------------------------------------------


@dataclass
class DueActions:
    """The heap of scheduled bot actions of a face's world; `_apply` does one.

    Actions are *materialised lazily*: before each request, every action due by the clock's
    now is applied in time order (ties in scheduling order)."""

    _queue: list[tuple[datetime, int, Action]] = field(default_factory=list, kw_only=True)
    _order: itertools.count[int] = field(default_factory=itertools.count, kw_only=True)

    def schedule(self, action: Action) -> None:
        heapq.heappush(self._queue, (action.at, next(self._order), action))

    def pending(self) -> list[Action]:
        """Actions not yet applied, in time order."""
        return [a for _, _, a in sorted(self._queue)]

    def apply_due(self, now: datetime) -> None:
        """Apply every action due by `now`, oldest first."""
        while self._queue and self._queue[0][0] <= now:
            _, _, action = heapq.heappop(self._queue)
            self._apply(action)

    def _apply(self, action: Action) -> None:
        raise NotImplementedError


def action_extra(action: Action, role: str, probe_post_id: str | None) -> dict[str, Any]:
    """The ledger fields of a bot's post or DM: who, what kind, for which probe and brand."""
    extra: dict[str, Any] = {"role": role, "reply_kind": str(action.kind)}
    if probe_post_id is not None:
        extra["probe_post_id"] = probe_post_id
    if action.brand is not None:
        extra["brand"] = action.brand
        extra["country"] = action.country
    return extra


# -- brand bots --------------------------------------------------------------------------------


def plan_index(plan: Iterable[PlannedProbe], channel: str) -> dict[str, tuple[str, str]]:
    """Post text -> (brand, country) for every planned probe on `channel`."""
    return {p.text: (p.brand, p.country) for p in plan if p.channel == channel}


def probe_for(
    study: Study,
    index: Mapping[str, tuple[str, str]],
    targets: Sequence[Target],
    post_id: int,
    text: str,
    at: datetime,
    handle: str,
) -> Probe:
    """The probe a brand's bot sees in a post of the probe account that mentions it.

    The plan's texts are what the runner posts: they find the probe's country, and with it
    the language and service hours the brand answers in; an unknown text gets the handle's
    one country if it serves only one, else UTC and English."""
    brand = targets[0].brand
    known = index.get(text) or index.get(text.strip())
    country: str | None = None
    if known is not None and known[0] == brand:
        country = known[1]
    elif len({t.country for t in targets}) == 1:
        country = targets[0].country
    timezone, language = "UTC", "en"
    for c in study.countries:
        if c.code == country:
            timezone, language = c.timezone, c.language
    return Probe(post_id, text, at, handle, brand, country, timezone, language)


def schedule_answers(
    schedule: Callable[[Action], None],
    settings: SimSettings,
    probes: Sequence[Probe],
    probe_account: str,
    channel: str,
) -> None:
    """Schedule what the mentioned brands' bots (and maybe a stranger) will do about one
    post on `channel`, given the probe each mentioned brand sees in it."""
    for probe in probes:
        profile = settings.profile(probe.brand, probe.country, channel)
        for action in decide(probe, profile, settings.seed, probe_account):
            schedule(action)
    if probes:
        post = probes[0]
        rate, seed = settings.stranger_rate, settings.seed
        for action in strangers(post.post_id, post.text, post.posted_at, rate, seed, probe_account):
            schedule(action)


# -- the face ----------------------------------------------------------------------------------


def planned(study: Study, channel: str) -> tuple[SimSettings, dict[str, tuple[str, str]]]:
    """What `replybench sim` builds a face from: `simulator.toml` from the study's folder
    (`study.path`) and the probe index of the study's plan on `channel`."""
    from study.plan import make_plan

    settings = study_settings(study)
    return settings, plan_index(make_plan(study), channel)


W = TypeVar("W", bound=DueActions)


class Face(Generic[W]):
    """A face's state behind one lock: its world, and the ledger it closes."""

    world: W
    ledger: Ledger | None
    clock: Clock
    _lock: threading.RLock

    def probe_address(self) -> str:
        """How the face's direct messages address the probe account."""
        raise NotImplementedError

    def send_dm(self, sender: str, text: str, *, after: timedelta = timedelta(0)) -> None:
        """Make `sender` send the probe account a direct message `after` from now (a test's
        scripted event)."""
        with self._lock:
            at, kind, to = self.clock.now() + after, ReplyKind.DIRECT_MESSAGE, self.probe_address()
            self.world.schedule(Action(at, sender, kind, text, None, True, None, to))

    def close(self) -> None:
        if self.ledger is not None:
            self.ledger.close()

    def pending(self) -> list[Action]:
        """What bots and strangers will do and have not done yet, in time order."""
        with self._lock:
            return self.world.pending()


def bearer_ok(request: httpx.Request, token: str | None) -> bool:
    """Whether a request has a bearer token: `token` if given, else any non-empty one."""
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return False
    return token is None or credential.strip() == token


def route_pattern(endpoint: str) -> tuple[str, re.Pattern[str]]:
    """("GET", regex) from a key like "GET /2/users/:id/mentions"."""
    method, path = endpoint.split(" ")
    return method, re.compile(re.sub(r":(\w+)", r"(?P<\1>[^/]+)", path))


# -- answering under a rate limit ------------------------------------------------------------


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
