"""Reading AT Protocol (Bluesky) XRPC bodies, and writing a post's mention facets.

Pure functions over parsed JSON, so the recorded responses in tests/fixtures/bluesky can be
fed to them directly. Shapes follow the lexicons (com.atproto.server.createSession,
app.bsky.notification.listNotifications, com.atproto.repo.listRecords,
chat.bsky.convo.getMessages, app.bsky.richtext.facet) and what bsky.social really sends.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from probes.answers import instant
from probes.channels.base import Reply
from probes.channels.common import first_line
from probes.channels.http import JSON as JSON
from probes.channels.http import as_object as as_object
from probes.channels.http import response_json as response_json
from study.kinds import classify_private_text, classify_public_text
from study.model import ReplyKind

log = logging.getLogger(__name__)

CHANNEL = "bluesky"
POST = "app.bsky.feed.post"
MENTION = "app.bsky.richtext.facet#mention"
# Notifications that may answer a probe. A reply that also mentions the account, or quotes
# a post, is notified once, as "mention" or "quote" (recorded in n_notifications.yml).
INBOX_REASONS = ("reply", "mention", "quote")
# 400 with these names, or any 401: the session is no good (expired, rotated): renew it.
SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})

# https://atproto.com/specs/handle: dot-separated DNS labels, the last not starting with a digit.
HANDLE = re.compile(
    r"(?=.{1,253}\Z)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)


# -- errors ---------------------------------------------------------------------------------


def error_name(body: Mapping[str, Any]) -> str:
    """The XRPC error name (`InvalidRequest`, `ExpiredToken`, ...), or ''."""
    name = body.get("error")
    return name if isinstance(name, str) else ""


def problem_text(body: Mapping[str, Any]) -> str:
    """One line from an XRPC error body `{"error": name, "message": text}`, e.g.
    "InvalidRequest: Invalid app.bsky.feed.post record: Record/text must not be longer than
    300 graphemes"."""
    name, message = error_name(body), body.get("message")
    if isinstance(message, str) and message:
        return f"{name}: {message}" if name else message
    return name


def describe(response: httpx.Response) -> str:
    """`problem_text` of a response, or the first line of a body that is not JSON."""
    return problem_text(response_json(response)) or first_line(response)


def session_refused(response: httpx.Response) -> bool:
    """Whether the PDS refused the session itself (expired or unverifiable token), so that a
    renewed session may succeed: 401, or 400 ExpiredToken/InvalidToken (atproto's PDS
    answers an expired access token with 400 ExpiredToken, the AppView with 401)."""
    if response.status_code == 401:
        return True
    return response.status_code == 400 and error_name(response_json(response)) in SESSION_ERRORS


# -- sessions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """What createSession/refreshSession hand back. Never printed: the JWTs are secrets."""

    did: str
    handle: str
    access: str
    refresh: str

    def __repr__(self) -> str:
        return f"Session(did={self.did!r}, handle={self.handle!r})"


def session(body: Mapping[str, Any]) -> Session | None:
    """The session in a createSession/refreshSession body, None if a field is missing."""
    fields = [body.get(k) for k in ("did", "handle", "accessJwt", "refreshJwt")]
    if not all(isinstance(f, str) and f for f in fields):
        return None
    did, handle, access, refresh = (str(f) for f in fields)
    return Session(did, handle, access, refresh)


def token_expiry(jwt: str) -> datetime | None:
    """When a JWT says it expires (its `exp` claim, read without verifying the signature,
    as the atproto SDK's `get_jwt_payload` does to decide when to refresh), or None."""
    parts = jwt.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        exp = claims.get("exp") if isinstance(claims, dict) else None
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            return datetime.fromtimestamp(exp, UTC)
    except (binascii.Error, ValueError, OverflowError, OSError):
        pass
    return None


# -- text and facets ------------------------------------------------------------------------


def is_handle(text: str) -> bool:
    return HANDLE.fullmatch(text) is not None


def mention_spans(text: str, handle: str) -> list[tuple[int, int]]:
    """UTF-8 byte ranges [start, end) of each `@handle` in `text` (case-insensitive).

    Facet indexes count UTF-8 bytes, not characters (app.bsky.richtext.facet#byteSlice), so
    an accented letter or an emoji before the mention shifts it by more than one. A match
    must stand alone: not preceded by a word character (an e-mail address), not followed by
    more handle (`@kaito.bsky.social.uk` is somebody else).
    """
    wanted = re.escape("@" + handle.lstrip("@"))
    pattern = re.compile(rf"(?<![\w@.]){wanted}(?![A-Za-z0-9-])(?!\.[A-Za-z0-9])", re.IGNORECASE)
    return [
        (len(text[: m.start()].encode("utf-8")), len(text[: m.end()].encode("utf-8")))
        for m in pattern.finditer(text)
    ]


def mention_facets(spans: Iterable[tuple[int, int]], did: str) -> list[JSON]:
    """One `app.bsky.richtext.facet` per span, each a mention of `did`."""
    return [
        {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": start, "byteEnd": end},
            "features": [{"$type": MENTION, "did": did}],
        }
        for start, end in spans
    ]


def comparable(text: str) -> str:
    """Text reduced for comparing a stored post with what was sent (the PDS stores the text
    as given; NFC only guards against an editor that decomposed accents)."""
    return unicodedata.normalize("NFC", text)


# -- times ----------------------------------------------------------------------------------


def timestamp(value: object) -> datetime | None:
    """An atproto datetime (`2025-02-24T04:27:20.710330Z`), None if absent, unreadable or
    out of range."""
    return instant(value)


# -- pages ----------------------------------------------------------------------------------


def items(body: Mapping[str, Any], key: str) -> list[JSON]:
    """The objects of a page's list (`notifications`, `records`, `convos`, `messages`)."""
    found = body.get(key)
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def next_cursor(body: Mapping[str, Any]) -> str | None:
    cursor = body.get("cursor")
    return cursor if isinstance(cursor, str) and cursor else None


# -- inbox items ----------------------------------------------------------------------------


def strong_ref_uri(ref: object) -> str | None:
    uri = as_object(ref).get("uri")
    return uri if isinstance(uri, str) and uri else None


def notification_reply(item: Mapping[str, Any], me: str) -> Reply | None:
    """A reply/mention/quote notification as an inbox item; None for anything else (likes,
    follows, ...) and for the account's own posts.

    The time is the post's own `createdAt` (the platform's record of when it was written),
    or `indexedAt` when that is missing or unreadable.
    """
    if item.get("reason") not in INBOX_REASONS:
        return None
    record = as_object(item.get("record"))
    author = as_object(item.get("author"))
    uri, did = item.get("uri"), author.get("did")
    if record.get("$type", POST) != POST or not isinstance(uri, str) or not isinstance(did, str):
        return None
    if did == me:
        return None
    when = timestamp(record.get("createdAt")) or timestamp(item.get("indexedAt"))
    if when is None:
        log.warning("Bluesky notification %s has no readable time; skipped", uri)
        return None
    reply = as_object(record.get("reply"))
    parent = strong_ref_uri(reply.get("parent"))
    root = strong_ref_uri(reply.get("root"))
    text = str(record.get("text", ""))
    return Reply(
        reply_id=uri,
        channel=CHANNEL,
        author=str(author.get("handle", "")),
        author_id=did,
        text=text,
        created_at=when,
        kind=classify_public_text(text) if parent is not None else ReplyKind.OTHER,
        in_reply_to=parent,
        conversation_id=root or parent,
    )


def member_handles(convo: Mapping[str, Any]) -> dict[str, str]:
    """A conversation's members as did -> handle."""
    out: dict[str, str] = {}
    for m in items(convo, "members"):
        if isinstance(m.get("did"), str):
            out[str(m["did"])] = str(m.get("handle", ""))
    return out


def message_reply(
    message: Mapping[str, Any], convo_id: str, handles: Mapping[str, str], me: str
) -> Reply | None:
    """A chat message (chat.bsky.convo.defs#messageView) sent to the account, as an inbox
    item; None for the account's own messages, deleted ones and unreadable ones."""
    if message.get("$type", "chat.bsky.convo.defs#messageView") != (
        "chat.bsky.convo.defs#messageView"
    ):
        return None
    sender = as_object(message.get("sender")).get("did")
    message_id, when = message.get("id"), timestamp(message.get("sentAt"))
    if not isinstance(sender, str) or not isinstance(message_id, str) or when is None:
        log.warning("Bluesky chat message %s lacks sender, id or sentAt; skipped", message_id)
        return None
    if sender == me:
        return None
    text = str(message.get("text", ""))
    return Reply(
        reply_id=message_id,
        channel=CHANNEL,
        author=handles.get(sender, ""),
        author_id=sender,
        text=text,
        created_at=when,
        kind=classify_private_text(text),
        in_reply_to=None,
        conversation_id=convo_id,
    )
