"""The Mastodon API's JSON as a Mastodon 4.x server was recorded sending it: accounts,
statuses with HTML `content`, notifications, `{"error": ...}` refusals, `Link` headers, and
the `X-RateLimit-*` budgets (reset in ISO 8601).

Key sets and their order follow the recordings in the shared fixtures (halcy/Mastodon.py's
cassettes); values the simulator has no use for are the recorded defaults.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from probes.sim.face import Refusal as Refusal  # raised by the handlers as mj.Refusal
from probes.sim.mastodon.world import MENTION, Account, MastodonWorld, Notification, Status
from study.platforms import platform
from study.timeutil import iso, utc

APP = {"name": "replybench", "website": None}
OTHER_APP = {"name": "Web", "website": None}
NOT_FOUND = "Not Found"
RECORD_NOT_FOUND = "Record not found"
INVALID_TOKEN = "The access token is invalid"
TOO_MANY = "Too many requests"
MAX_CHARS = 500
URL_WEIGHT = 23  # every link counts as 23 characters, whatever its length
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)'\]]")


def respond(status: int, body: object, headers: Mapping[str, str] | None = None) -> httpx.Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    out = {"content-type": "application/json; charset=utf-8", **(headers or {})}
    return httpx.Response(status, content=content, headers=out)


def error(status: int, message: str) -> httpx.Response:
    return respond(status, {"error": message})


def refusal(status: int, message: str) -> Refusal:
    return Refusal(error(status, message))


# -- text -----------------------------------------------------------------------------------


def length(text: str) -> int:
    """A status's length as Mastodon counts it: links weigh 23, a remote mention only its
    `@user` part."""
    t = _URL.sub("x" * URL_WEIGHT, text)
    t = MENTION.sub(lambda m: "@" + m.group(1), t)
    return len(t)


def _escape(text: str) -> str:
    # Rails' html_escape, as Mastodon's TextFormatter applies it.
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _link(url: str) -> str:
    scheme, _, rest = url.partition("://")
    shown = (
        f'<span class="ellipsis">{_escape(rest[:30])}</span>'
        f'<span class="invisible">{_escape(rest[30:])}</span>'
        if len(rest) > 30
        else f'<span class="">{_escape(rest)}</span><span class="invisible"></span>'
    )
    return (
        f'<a href="{_escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{_escape(scheme)}://</span>{shown}</a>'
    )


def _mention(account: Account) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{_escape(account.url)}" '
        f'class="u-url mention">@<span>{_escape(account.username)}</span></a></span>'
    )


def content_html(text: str, resolve: Callable[[str, str | None], Account | None]) -> str:
    """The HTML Mastodon renders from a status's text: paragraphs, `<br />`, links, and
    mentions of known accounts as h-card links showing `@username` only."""
    pattern = re.compile(f"(?P<url>{_URL.pattern})|(?P<mention>{MENTION.pattern})", re.I)
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = []
    for paragraph in paragraphs:
        parts: list[str] = []
        at = 0
        for m in pattern.finditer(paragraph):
            parts.append(_escape(paragraph[at : m.start()]))
            if m.group("url"):
                parts.append(_link(m.group("url")))
            else:
                found = MENTION.fullmatch(m.group("mention"))
                account = resolve(found.group(1), found.group(2)) if found else None
                parts.append(_mention(account) if account else _escape(m.group()))
            at = m.end()
        parts.append(_escape(paragraph[at:]))
        out.append("<p>" + "".join(parts).replace("\n", "<br />") + "</p>")
    return "".join(out)


# -- entities -------------------------------------------------------------------------------


def render_account(world: MastodonWorld, account: Account, *, credentials: bool = False) -> Any:
    """An Account (a CredentialAccount, with `source` and `role`, for verify_credentials)."""
    own = [s for s in world.statuses.values() if s.account is account and not s.deleted]
    local = account.domain == world.instance
    uri = (
        f"https://{account.domain}/ap/users/{account.id}"
        if local
        else f"https://{account.domain}/users/{account.username}"
    )
    missing = f"https://{world.instance}/avatars/original/missing.png"
    body: dict[str, Any] = {
        "id": account.id,
        "username": account.username,
        "acct": account.acct(world.instance),
        "display_name": account.display_name,
        "locked": False,
        "bot": account.role == "brand",
        "discoverable": None,
        "indexable": False,
        "group": False,
        "created_at": iso(_day(_created(account))),
        "note": "",
        "url": account.url,
        "uri": uri,
        "avatar": missing,
        "avatar_static": missing,
        "avatar_description": "",
        "header": missing.replace("avatars", "headers"),
        "header_static": missing.replace("avatars", "headers"),
        "header_description": "",
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": len(own),
        "last_status_at": own[-1].created_at.strftime("%Y-%m-%d") if own else None,
        "hide_collections": None,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "noindex": False,
        "feature_approval": {"automatic": [], "manual": [], "current_user": "denied"},
    }
    if credentials:
        body["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": None,
            "note": "",
            "fields": [],
            "follow_requests_count": 0,
            "hide_collections": None,
            "discoverable": None,
            "indexable": False,
            "attribution_domains": [],
            "quote_policy": "public",
        }
    body.update(emojis=[], roles=[], fields=[])
    if credentials:
        body["role"] = {
            "id": "-99",
            "name": "",
            "permissions": "65536",
            "color": "",
            "highlighted": False,
            "collection_limit": 10,
        }
    return body


def render_status(
    world: MastodonWorld, status: Status, viewer: Account | None, *, source: bool = False
) -> Any:
    """A Status; `source` renders the text as posted instead of `content`, as a DELETE does
    (for "delete and redraft")."""
    author = status.account
    parent = status.in_reply_to
    replies = sum(1 for s in world.statuses.values() if s.in_reply_to is status and not s.deleted)
    body: dict[str, Any] = {
        "id": str(status.id),
        "created_at": iso(status.created_at),
        "in_reply_to_id": str(parent.id) if parent is not None else None,
        "in_reply_to_account_id": parent.account.id if parent is not None else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": status.visibility,
        "language": status.language,
        "uri": f"https://{author.domain}/users/{author.username}/statuses/{status.id}",
        "url": f"{author.url}/{status.id}",
        "replies_count": replies,
        "reblogs_count": 0,
        "favourites_count": 0,
        "quotes_count": 0,
        "edited_at": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
    }
    if viewer is author:
        body["pinned"] = False  # only the author is told
    if source:
        body["text"] = status.text
    else:
        body["content"] = content_html(status.text, world.resolve)
    body.update(
        filtered=[],
        reblog=None,
        application=APP if author.role == "probe" else OTHER_APP,
        account=render_account(world, author),
        media_attachments=[],
        mentions=[
            {"id": a.id, "username": a.username, "url": a.url, "acct": a.acct(world.instance)}
            for a in status.mentions
        ],
        tags=[],
        emojis=[],
        tagged_collections=[],
        quote=None,
        card=None,
        poll=None,
        quote_approval={"automatic": ["public"], "manual": [], "current_user": "automatic"},
    )
    return body


def render_notification(world: MastodonWorld, n: Notification, viewer: Account) -> Any:
    return {
        "id": str(n.id),
        "type": "mention",
        "created_at": iso(n.status.created_at),
        "group_key": f"ungrouped-{n.id}",
        "account": render_account(world, n.status.account),
        "status": render_status(world, n.status, viewer),
    }


def _created(account: Account) -> datetime:
    """When the account was made: the time in its snowflake id."""
    return datetime.fromtimestamp((int(account.id) >> 16) / 1000, UTC)


def _day(when: datetime) -> datetime:
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


# -- pages ----------------------------------------------------------------------------------


def int_param(params: httpx.QueryParams, key: str) -> int | None:
    raw = params.get(key)
    return int(raw) if raw is not None and raw.isdigit() else None


def page(
    items: Sequence[Any], request: httpx.Request, *, default: int, kept: Sequence[str]
) -> tuple[list[Any], dict[str, str]]:
    """One newest-first page of `items` (given oldest first, each with an int `id`) for the
    request's query, and its `Link` header (to the request's URL), as Mastodon's
    `paginate_by_max_id`/`paginate_by_min_id` cut them.

    `max_id` and `since_id` are exclusive bounds; `min_id` asks for the oldest items after
    it. `limit` is clamped to 1..twice the default, as Mastodon does. `next` leads to older
    items (`max_id`), `prev` to newer ones (`min_id`); both carry the `kept` parameters.
    """
    params, url_ = request.url.params, request.url
    origin = f"{url_.scheme}://{url_.host}" + (f":{url_.port}" if url_.port else "")
    limit = int_param(params, "limit") or default
    limit = max(1, min(limit, 2 * default))
    max_id, since_id, min_id = (int_param(params, k) for k in ("max_id", "since_id", "min_id"))
    chosen = [
        i
        for i in items
        if (max_id is None or i.id < max_id)
        and (since_id is None or i.id > since_id)
        and (min_id is None or i.id > min_id)
    ]
    chosen = list(reversed(chosen[:limit])) if min_id is not None else chosen[::-1][:limit]
    if not chosen:
        return chosen, {}
    base = [(k, v) for k in kept for v in params.get_list(k)]

    def url(key: str, value: int) -> str:
        query = urlencode(sorted([*base, (key, str(value))]))
        return f"<{origin}{url_.path}?{query}>"

    link = f'{url("max_id", chosen[-1].id)}; rel="next", {url("min_id", chosen[0].id)}; rel="prev"'
    return chosen, {"link": link}


# -- rate limits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    limit: int
    period: timedelta


def _budgets() -> dict[str, Budget]:
    """Mastodon's budgets, from study/platforms.toml: 300 API requests per 5 minutes per
    token (`throttle_per_token_api`), 300 new statuses per 3 hours, 30 deletions per 30
    minutes. Windows are fixed, aligned on the epoch, as Rack::Attack and Mastodon's
    RateLimiter count them."""
    rules = platform("mastodon")
    assert rules is not None, "study/platforms.toml has no [mastodon]"
    family = {"request": "api", "post": "statuses", "delete": "delete_statuses"}
    return {family[x.action]: Budget(x.actions, x.window) for x in rules.limits}


BUDGETS: dict[str, Budget] = _budgets()


class RateLimiter:
    """Counts requests per budget family in epoch-aligned windows of virtual time."""

    def __init__(self, budgets: Mapping[str, Budget] | None = None) -> None:
        self.budgets = dict(BUDGETS if budgets is None else budgets)
        self._used: dict[str, tuple[int, int]] = {}  # family -> (window number, used)

    def _window(self, family: str, now: datetime) -> tuple[Budget, int, int]:
        budget = self.budgets[family]
        seconds = int(budget.period.total_seconds())
        number = int(utc(now).timestamp()) // seconds
        window, used = self._used.get(family, (number, 0))
        return budget, number, used if window == number else 0

    def take(self, family: str, now: datetime) -> tuple[bool, dict[str, str]]:
        """Spend one request; (allowed, the X-RateLimit-* headers to send)."""
        if family not in self.budgets:
            return True, {}
        budget, number, used = self._window(family, now)
        allowed = used < budget.limit
        if allowed:
            used += 1
        self._used[family] = (number, used)
        return allowed, self._headers(budget, budget.limit - used, now)

    def headers(self, family: str, now: datetime, *, spent: bool = False) -> dict[str, str]:
        """The headers as they stand, without spending (for injected faults)."""
        if family not in self.budgets:
            return {}
        budget, _, used = self._window(family, now)
        return self._headers(budget, 0 if spent else budget.limit - used, now)

    @staticmethod
    def _headers(budget: Budget, remaining: int, now: datetime) -> dict[str, str]:
        # Mastodon: reset = now + (period - now.to_i % period), so it keeps now's fraction.
        seconds = int(budget.period.total_seconds())
        reset = now + timedelta(seconds=seconds - int(utc(now).timestamp()) % seconds)
        return {
            "x-ratelimit-limit": str(budget.limit),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": utc(reset).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
