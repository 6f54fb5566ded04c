"""What the HTTP channel adapters (X, Mastodon, Bluesky) share besides `probes.channels.http`:
their client, the first line of an error body, the order of ids and of inbox items."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

import httpx

from probes.channels.base import AuthError, Reply

if TYPE_CHECKING:
    from probes.channels.ratelimits import RateLimitHeaders

SIM_TOKEN = "replybench-simulator"  # what the simulator accepts when no token is exported


def sim_credential(secret: str, account: str = "") -> str:
    """A credential of the simulator (`secret`: its token, app password, OAuth 1.0a access
    token or secret) as the simulator issues it to the probe account `account`: the plain
    `secret` for none, else the account's own, so a simulated platform tells the accounts of
    a study (each persona's) apart by their credentials, as the real one does."""
    who = account.strip().lstrip("@").lower()
    return f"{secret}.{who}" if who else secret


def make_client(api_base: str, token: str | None = None, timeout: float = 30) -> httpx.AsyncClient:
    """The client the registry hands to an HTTP adapter: base URL, User-Agent and, when the
    platform takes one (X, Mastodon), the bearer token; nothing else. Bluesky's session puts
    its own token on each request, so its client gets none."""
    headers = {"User-Agent": "replybench"}
    if token is not None:
        if not token.strip():
            raise AuthError("no bearer token was given")
        headers["Authorization"] = f"Bearer {token.strip()}"
    return httpx.AsyncClient(base_url=api_base, headers=headers, timeout=timeout)


def first_line(response: httpx.Response) -> str:
    """The first line of a body, at most 200 characters: the words of an error body that is
    not the platform's JSON (a proxy's page, plain text)."""
    raw = response.text.strip().splitlines()
    return raw[0][:200] if raw else ""


def newest_id(ids: Iterable[str], current: str | None) -> str | None:
    """The largest of the numeric ids and `current` (X's snowflakes and Mastodon's ids are
    integers as text: larger is newer); ids that are not numeric are passed over."""
    best = current
    for i in ids:
        if i.isdigit() and (best is None or int(i) > int(best)):
            best = i
    return best


def newer(item_id: str, than: str) -> bool:
    """Whether `item_id` is newer than `than`: larger when both are numeric, else different."""
    if item_id.isdigit() and than.isdigit():
        return int(item_id) > int(than)
    return item_id != than


def oldest_first(replies: Iterable[Reply]) -> list[Reply]:
    """Replies by time, each id once (a page boundary must not report an item twice); at
    one instant numeric ids in their order, others (at:// uris) by their text."""
    unique = {r.reply_id: r for r in replies}
    return sorted(
        unique.values(),
        key=lambda r: (
            r.created_at,
            int(r.reply_id) if r.reply_id.isdigit() else 0,
            r.reply_id,
        ),
    )


class Retries(TypedDict, total=False):
    """How an HTTP adapter's `Requester` retries (probes.channels.http): tests pass a seeded
    `rng`, fewer `max_retries` or a shorter `deadline` (real seconds per exchange)."""

    rng: random.Random | None
    max_retries: int
    deadline: float


@dataclass(frozen=True)
class Api:
    """One platform's API as its `Requester` speaks to it: its name in messages ("X API"),
    its rate-limit headers, and how to read a short text from one of its error answers."""

    name: str
    headers: RateLimitHeaders
    describe: Callable[[httpx.Response], str]
