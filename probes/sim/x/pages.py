"""Reading X's timeline parameters and cutting newest-first pages, as X does.

`since_id`/`until_id` and `start_time`/`end_time` narrow the items (ids and start exclusive
and inclusive as X documents: since_id and until_id exclusive, start_time inclusive, end_time
exclusive); `max_results` sizes the page; `meta.next_token` leads to older items and, on
pages reached with a token, `meta.previous_token` back to newer ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

import httpx

from probes.sim.ids import make_token, read_token
from probes.sim.x.views import invalid_request
from study.timeutil import parse_iso

_ID = re.compile(r"^[0-9]{1,19}$")


class Item(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def created_at(self) -> datetime: ...


T = TypeVar("T", bound=Item)
V = TypeVar("V")


def _param(
    params: httpx.QueryParams, key: str, parse: Callable[[str], V | None], must: str
) -> V | None:
    """The query parameter `key` as `parse` reads it, None when absent; X's 400 naming what
    the value `must` be when `parse` gives None or raises ValueError."""
    raw = params.get(key)
    if raw is None:
        return None
    try:
        value = parse(raw)
    except ValueError:
        value = None
    if value is None:
        raise invalid_request(key, raw, f"The `{key}` query parameter value [{raw}] {must}")
    return value


def int_param(params: httpx.QueryParams, key: str, low: int, high: int, default: int) -> int:
    def parse(raw: str) -> int | None:
        return int(raw) if raw.isdigit() and low <= int(raw) <= high else None

    value = _param(params, key, parse, f"is not between {low} and {high}")
    return default if value is None else value


def id_param(params: httpx.QueryParams, key: str) -> int | None:
    def parse(raw: str) -> int | None:
        return int(raw) if _ID.match(raw) else None

    return _param(params, key, parse, "does not match ^[0-9]{1,19}$")


def time_param(params: httpx.QueryParams, key: str) -> datetime | None:
    return _param(params, key, parse_iso, "is not a valid RFC 3339 time")


def token_param(params: httpx.QueryParams) -> tuple[str, int] | None:
    raw = params.get("pagination_token")
    if raw is None:
        return None
    token = read_token(raw)
    if token is None:
        raise invalid_request(
            "pagination_token",
            raw,
            f"The `pagination_token` query parameter value [{raw}] is not valid",
        )
    return token


def narrowed(items: Sequence[T], params: httpx.QueryParams) -> list[T]:
    """The items (in id order) that since_id, until_id, start_time and end_time let through."""
    since_id, until_id = id_param(params, "since_id"), id_param(params, "until_id")
    start, end = time_param(params, "start_time"), time_param(params, "end_time")
    if start is not None and end is not None and end <= start:
        raise invalid_request(
            "end_time",
            params["end_time"],
            "The `end_time` query parameter value must be after the `start_time` value",
        )
    return [
        item
        for item in items
        if (since_id is None or item.id > since_id)
        and (until_id is None or item.id < until_id)
        and (start is None or item.created_at >= start)
        and (end is None or item.created_at < end)
    ]


def page(
    items: Sequence[T],
    params: httpx.QueryParams,
    *,
    default_size: int,
    low: int,
    id_meta: bool,
) -> tuple[list[T], dict[str, Any]]:
    """One newest-first page of `items` (given oldest first) and X's `meta` for it.

    `id_meta` adds `newest_id`/`oldest_id`, as timelines do and dm_events does not.
    """
    size = int_param(params, "max_results", low, 100, default_size)
    token = token_param(params)
    if token is None:
        chosen = list(reversed(items))[:size]
    elif token[0] == "n":
        chosen = [i for i in reversed(items) if i.id < token[1]][:size]
    else:
        chosen = list(reversed([i for i in items if i.id > token[1]][:size]))
    meta: dict[str, Any] = {"result_count": len(chosen)}
    if chosen:
        if id_meta:
            meta["newest_id"] = str(chosen[0].id)
            meta["oldest_id"] = str(chosen[-1].id)
        if any(i.id < chosen[-1].id for i in items):
            meta["next_token"] = make_token("n", chosen[-1].id)
        if token is not None:
            meta["previous_token"] = make_token("p", chosen[0].id)
    return chosen, meta
