"""Reading Mastodon API responses: accounts, statuses, notification pages, error bodies.

Pure functions over parsed JSON, so the recorded responses in tests/fixtures/mastodon can be
fed to them directly. Shapes as documented at https://docs.joinmastodon.org/entities/ and as
a Mastodon 4.x server was recorded sending them: a status's `content` is HTML, ids are
strings, errors are `{"error": "..."}`.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx

from probes.answers import instant, platform_id
from probes.channels.base import Reply
from probes.channels.common import first_line
from probes.channels.http import JSON as JSON
from probes.channels.http import as_object as as_object
from study.kinds import classify_private_text, classify_public_text
from study.model import ReplyKind

log = logging.getLogger(__name__)

CHANNEL = "mastodon"


def as_list(body: object) -> list[JSON]:
    """The objects of a JSON array (a page of statuses or notifications)."""
    return [b for b in body if isinstance(b, dict)] if isinstance(body, list) else []


def response_body(response: httpx.Response) -> object:
    try:
        body: object = response.json()
    except ValueError:
        return None
    return body


# -- errors ---------------------------------------------------------------------------------


def describe(response: httpx.Response) -> str:
    """The server's own words from an error body (`error`, and `error_description` when
    the OAuth layer answers), or the first line of a body that is not JSON."""
    body = as_object(response_body(response))
    parts = [str(body[k]) for k in ("error", "error_description") if body.get(k)]
    if parts:
        return ": ".join(dict.fromkeys(parts))
    line = first_line(response)
    return "" if line.lstrip().startswith("<") else line


# -- text -----------------------------------------------------------------------------------


class _Text(HTMLParser):
    """Collects the text of Mastodon's status HTML: `<br>` is a line break, a paragraph is
    a blank line; mentions, hashtags and links keep their visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._paragraphs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self._paragraphs:
                self.parts.append("\n\n")
            self._paragraphs += 1

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(content: str) -> str:
    """The text of a status's HTML `content`, as its author wrote it (mentions as `@user`)."""
    if "<" not in content:
        return html.unescape(content)
    parser = _Text()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts).strip()


# Mastodon renders `@user@instance` as a link whose text is `@user` (and fixes the case of
# the username): compare mentions by the username alone.
_MENTION = re.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\w.-]+\w)?", re.I)


def comparable(text: str) -> str:
    """Text reduced for comparing a status with what was posted: NFC, mentions as
    `@username` in lower case, whitespace folded."""
    t = unicodedata.normalize("NFC", text)
    t = _MENTION.sub(lambda m: "@" + m.group(1).lower(), t)
    return " ".join(t.split())


# -- accounts, statuses, notifications -----------------------------------------------------


def instance_of(api_base: str) -> str:
    """The instance's domain (`mastodon.social`) from its API base: what local accounts'
    `acct` leaves out."""
    parts = urlsplit(api_base)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def qualified(acct: str, instance: str) -> str:
    """`user@instance` for an account's `acct`: local accounts have no domain in `acct`."""
    acct = acct.lstrip("@")
    return acct if "@" in acct else f"{acct}@{instance}"


def created_at(item: Mapping[str, Any]) -> datetime | None:
    """The item's `created_at`; None when absent, unreadable or out of range."""
    return instant(item.get("created_at"))


def followers(status: Mapping[str, Any]) -> int | None:
    """The posting account's follower count as the status shows it (its `account`'s
    `followers_count`, https://docs.joinmastodon.org/entities/Account/#followers_count);
    None when absent or not a count."""
    account = status.get("account")
    count = account.get("followers_count") if isinstance(account, Mapping) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None


def status_reply(
    status: Mapping[str, Any], instance: str, conversation_id: str | None = None
) -> Reply | None:
    """A status that mentions the probe account as an inbox item; None when unreadable."""
    account = as_object(status.get("account"))
    when = created_at(status)
    status_id, author_id = platform_id(status.get("id")), platform_id(account.get("id"))
    if status_id is None or author_id is None or when is None:
        log.warning("Mastodon status %.200s lacks an id, account or created_at; skipped", status)
        return None
    text = plain_text(str(status.get("content") or ""))
    in_reply_to = platform_id(status.get("in_reply_to_id"))
    if status.get("visibility") == "direct":
        kind = classify_private_text(text)
    elif in_reply_to is None:
        kind = ReplyKind.OTHER
    else:
        kind = classify_public_text(text)
    return Reply(
        reply_id=status_id,
        channel=CHANNEL,
        author=qualified(str(account.get("acct") or account.get("username") or ""), instance),
        author_id=author_id,
        text=text,
        created_at=when,
        kind=kind,
        in_reply_to=in_reply_to,
        conversation_id=conversation_id,
    )


def mention_statuses(page: Iterable[Mapping[str, Any]], me: str) -> list[JSON]:
    """The statuses of a notifications page's mentions, the probe account's own excluded."""
    out: list[JSON] = []
    for item in page:
        if item.get("type") != "mention":
            continue
        status = as_object(item.get("status"))
        if not status or str(as_object(status.get("account")).get("id")) == me:
            continue
        out.append(status)
    return out


def oldest_first_statuses(statuses: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Statuses by time and id, each once: a reply comes after what it replies to."""
    unique = {str(s.get("id")): s for s in statuses}

    def key(s: Mapping[str, Any]) -> tuple[str, int]:
        when = created_at(s)
        sid = str(s.get("id", ""))
        return (when.isoformat() if when else "", int(sid) if sid.isdigit() else 0)

    return sorted(unique.values(), key=key)
