"""Reading X API v2 response bodies: users, mention pages, DM event pages, error bodies.

Pure functions over parsed JSON, so the recorded responses in tests/fixtures/x can be fed to
them directly. Field names follow the live API (`tweet.fields`, `referenced_tweets`), which
the OpenAPI description in xdevplatform/xdk renames to `post.fields`/`referenced_posts`; the
DM parser accepts either.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import httpx

from probes.answers import epoch_ms, instant, platform_id
from probes.channels.base import Reply
from probes.channels.common import first_line
from probes.channels.http import JSON as JSON
from probes.channels.http import as_object as as_object
from probes.channels.http import response_json as response_json
from study.kinds import classify_private_text, classify_public_text
from study.model import ReplyKind

log = logging.getLogger(__name__)

CHANNEL = "x"
NOT_FOUND = "/2/problems/resource-not-found"
SNOWFLAKE_EPOCH_MS = 1288834974657


# -- errors ---------------------------------------------------------------------------------


def problem_text(body: Mapping[str, Any]) -> str:
    """A short message from an X error body.

    X answers with problem+json (`title`, `detail`, `type`, sometimes `errors[]` with
    `message`s) or the older `{"errors": [{"code", "message"}]}`; both become one line, e.g.
    "Invalid Request: One or more parameters to your request was invalid; JSON doesn't
    match expected schema".
    """
    parts: list[str] = []
    title, detail = body.get("title"), body.get("detail")
    if isinstance(title, str) and title:
        parts.append(title)
    if isinstance(detail, str) and detail and detail != title:
        parts.append(detail)
    head = ": ".join(parts)
    seen = {head}
    messages: list[str] = []
    for err in body.get("errors") or []:
        if not isinstance(err, dict):
            continue
        text = err.get("message") or err.get("detail") or err.get("title")
        if isinstance(text, str) and text and text not in seen:
            seen.add(text)
            messages.append(text)
    if not head and not messages and isinstance(body.get("error"), str):
        return str(body["error"])
    return "; ".join(p.rstrip(".") for p in [head, *messages] if p)


def describe(response: httpx.Response) -> str:
    """`problem_text` of a response, or the first line of a body that is not JSON."""
    return problem_text(response_json(response)) or first_line(response)


def is_duplicate(body: Mapping[str, Any]) -> bool:
    """X's 403 for a post whose text the account already posted: the probe may be live."""
    return "duplicate" in problem_text(body).lower()


def is_not_found(body: Mapping[str, Any]) -> bool:
    """X reports a missing (or suspended) user as 200 with only `errors[]` of this type."""
    errors = body.get("errors") or []
    return any(isinstance(e, dict) and str(e.get("type", "")).endswith(NOT_FOUND) for e in errors)


# -- text -----------------------------------------------------------------------------------

_URL = re.compile(r"https?://\S+")


def comparable(text: str) -> str:
    """Text as X may give it back, reduced for comparing with what was sent.

    X `&amp;`-escapes `& < >` in post texts, normalises to NFC, may fold whitespace, and
    rewrites every link to a t.co one, so links compare as a placeholder.
    """
    t = unicodedata.normalize("NFC", html.unescape(text))
    t = _URL.sub("<link>", t)
    return " ".join(t.split())


# -- users and posts ------------------------------------------------------------------------


def users_by_id(body: Mapping[str, Any]) -> dict[str, str]:
    """`includes.users` as id -> username."""
    users = as_object(body.get("includes")).get("users") or []
    return {
        str(u["id"]): str(u["username"])
        for u in users
        if isinstance(u, dict) and "id" in u and "username" in u
    }


def referenced(item: Mapping[str, Any], kind: str | None = None) -> str | None:
    """The id of the first referenced post (of `kind`, e.g. 'replied_to', when given)."""
    refs = item.get("referenced_tweets") or item.get("referenced_posts") or []
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and (kind is None or ref.get("type") == kind):
            return platform_id(ref.get("id"))
    return None


def snowflake_time(item_id: str) -> datetime | None:
    """When X minted a post or DM event id: a snowflake's top bits are milliseconds since
    X's epoch (1288834974657). None for ids older than snowflakes (before November 2010)
    and for ids whose time would be out of range (an id of 40 digits is not a snowflake)."""
    if not item_id.isdigit() or len(item_id) > 20 or int(item_id) < 1 << 40:
        return None
    return epoch_ms((int(item_id) >> 22) + SNOWFLAKE_EPOCH_MS)


def created_at(item: Mapping[str, Any]) -> datetime | None:
    """The item's `created_at`, or, when X left it out, the time in its snowflake id."""
    return instant(item.get("created_at")) or snowflake_time(platform_id(item.get("id")) or "")


def page_items(body: Mapping[str, Any]) -> list[JSON]:
    """A page's items that have an id, each id as text (an integer id is made text; an item
    whose id is neither is left out)."""
    data = body.get("data") or []
    items: list[JSON] = []
    for d in data if isinstance(data, list) else []:
        item_id = platform_id(d.get("id")) if isinstance(d, dict) else None
        if item_id is not None:
            items.append({**d, "id": item_id})
    return items


def next_token(body: Mapping[str, Any]) -> str | None:
    return platform_id(as_object(body.get("meta")).get("next_token"))


def _partial_errors(body: Mapping[str, Any], what: str) -> None:
    # A 200 page may carry errors[] about things it refers to (a suspended user mentioned,
    # a deleted post quoted); the page's own items are still good.
    errors = body.get("errors") or []
    if errors:
        log.debug("X %s: %d partial error(s), e.g. %s", what, len(errors), errors[0])


def mention_replies(body: Mapping[str, Any], me: str) -> list[Reply]:
    """The posts of one mentions-timeline page as inbox items (the account's own excluded)."""
    _partial_errors(body, "mentions page")
    names = users_by_id(body)
    replies: list[Reply] = []
    for post in page_items(body):
        author_id = str(post.get("author_id", ""))
        when = created_at(post)
        if when is None:
            log.warning("X mention %s has no created_at; skipped", post["id"])
            continue
        if author_id == me:
            continue
        text = html.unescape(str(post.get("text", "")))
        parent = referenced(post, "replied_to")
        kind = classify_public_text(text) if parent is not None else ReplyKind.OTHER
        replies.append(
            Reply(
                reply_id=str(post["id"]),
                channel=CHANNEL,
                author=names.get(author_id, ""),
                author_id=author_id,
                text=text,
                created_at=when,
                kind=kind,
                in_reply_to=parent,
                conversation_id=platform_id(post.get("conversation_id")),
            )
        )
    return replies


def dm_replies(
    events: Iterable[Mapping[str, Any]], names: Mapping[str, str], me: str
) -> list[Reply]:
    """Message events sent to the probe account (not by it) as inbox items."""
    replies: list[Reply] = []
    for event in events:
        if event.get("event_type", "MessageCreate") != "MessageCreate":
            continue
        sender = event.get("sender_id")
        when = created_at(event)
        if sender is None or when is None:
            log.warning("X DM event %s lacks sender_id or created_at; skipped", event.get("id"))
            continue
        if str(sender) == me:
            continue
        text = str(event.get("text", ""))
        replies.append(
            Reply(
                reply_id=str(event["id"]),
                channel=CHANNEL,
                author=names.get(str(sender), ""),
                author_id=str(sender),
                text=text,
                created_at=when,
                kind=classify_private_text(text),
                in_reply_to=referenced(event),
                conversation_id=platform_id(event.get("dm_conversation_id")),
            )
        )
    return replies
